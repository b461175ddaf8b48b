// An SSH connection that comes back: the first connect must succeed (so a wrong key or host key is reported at
// once), after that a dropped connection is re-opened with backoff until the link is closed. Kernels on the host
// share one link (the provisioner context's pool); their tunnels ask `ready()` for the connection of the moment.
import { openSsh, type SshConnection, type SshTarget } from './ssh-connection';
import type { LinkState } from '../types';

export interface SshLinkOptions {
  /** Waits between reconnect attempts (ms); the last one repeats. */
  backoffMs?: readonly number[];
  log?: (msg: string) => void;
  /** Opens one connection; openSsh by default (tests substitute). */
  connect?: (target: SshTarget, signal?: AbortSignal) => Promise<SshConnection>;
}

const DEFAULT_BACKOFF = [250, 1000, 2000, 5000, 10000];

export class SshLink {
  private conn: SshConnection | null;
  private downReason = '';
  private readonly listeners = new Set<(state: LinkState) => void>();
  private readonly waiters = new Set<() => void>();
  private readonly stop = new AbortController();

  private constructor(
    readonly target: SshTarget,
    first: SshConnection,
    private readonly opts: Required<Pick<SshLinkOptions, 'backoffMs' | 'connect'>> & SshLinkOptions,
  ) {
    this.conn = first;
    this.watch(first);
  }

  static async open(target: SshTarget, opts: SshLinkOptions = {}, signal?: AbortSignal): Promise<SshLink> {
    const connect = opts.connect ?? openSsh;
    const first = await connect(target, signal);
    return new SshLink(target, first, { ...opts, connect, backoffMs: opts.backoffMs ?? DEFAULT_BACKOFF });
  }

  get state(): LinkState {
    return this.conn ? { up: true } : { up: false, reason: this.downReason || 'the link is closed' };
  }

  /** The connection when up, else null. */
  current(): SshConnection | null {
    return this.conn;
  }

  /** The connection, waiting for a reconnect when down; rejects when `signal` aborts or the link is closed. */
  async ready(signal?: AbortSignal): Promise<SshConnection> {
    for (;;) {
      if (this.conn) return this.conn;
      if (this.stop.signal.aborted) throw new Error(`the SSH link to ${this.where} is closed`);
      signal?.throwIfAborted();
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.waiters.delete(done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        this.waiters.add(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }

  /** Hear the link go down and come back; returns unsubscribe. */
  onState(listener: (state: LinkState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    if (this.stop.signal.aborted) return;
    this.stop.abort();
    const c = this.conn;
    this.conn = null;
    this.downReason = 'the link is closed';
    c?.close();
    this.wake();
    this.listeners.clear();
  }

  private get where(): string {
    return `${this.target.user}@${this.target.host}:${this.target.port ?? 22}`;
  }

  private watch(conn: SshConnection): void {
    conn.onClose((err) => {
      if (this.conn !== conn || this.stop.signal.aborted) return;
      this.conn = null;
      this.downReason = `SSH connection to ${this.where} lost${err ? `: ${err.message}` : ''}`;
      this.opts.log?.(this.downReason + '; reconnecting');
      this.emit({ up: false, reason: this.downReason });
      void this.reconnect();
    });
  }

  private async reconnect(): Promise<void> {
    const { backoffMs } = this.opts;
    for (let attempt = 0; !this.stop.signal.aborted; attempt++) {
      await delay(backoffMs[Math.min(attempt, backoffMs.length - 1)] ?? 1000, this.stop.signal);
      if (this.stop.signal.aborted) return;
      try {
        const conn = await this.opts.connect(this.target, this.stop.signal);
        if (this.stop.signal.aborted) return void conn.close();
        this.conn = conn;
        this.watch(conn);
        this.opts.log?.(`SSH connection to ${this.where} is back`);
        this.emit({ up: true });
        this.wake();
        return;
      } catch (err) {
        this.downReason = `SSH connection to ${this.where} lost; reconnect failed: ${(err as Error).message}`;
      }
    }
  }

  private emit(state: LinkState): void {
    for (const l of [...this.listeners]) l(state);
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
