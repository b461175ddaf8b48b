// A Swarm service's logs: followed during a launch until the launcher's one report line appears (our launcher
// prints it on the container's stdout, and the Swarm carries it from whichever node runs the task), and their
// last lines for a failure message. The engine multiplexes stdout and stderr (no TTY): 8-byte frame headers.
import type Docker from 'dockerode';
import { abortError } from '../abort';

const MAX_KEPT = 64 * 1024;

/** Splits the engine's multiplexed log stream (header: stream type, 3 zero bytes, big-endian length). */
export class LogDemuxer {
  private pending: Buffer = Buffer.alloc(0);

  /** Feed a chunk; returns the payload text of every complete frame in it. */
  push(chunk: Buffer): string {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let out = '';
    while (this.pending.length >= 8) {
      const type = this.pending[0]!;
      if (type > 2 || this.pending.readUIntBE(1, 3) !== 0) {
        // Not multiplexed (a TTY service): the bytes are the text.
        out += this.pending.toString('utf8');
        this.pending = Buffer.alloc(0);
        break;
      }
      const len = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + len) break;
      out += this.pending.subarray(8, 8 + len).toString('utf8');
      this.pending = this.pending.subarray(8 + len);
    }
    return out;
  }
}

/** Follows a service's logs (stdout and stderr) and keeps their last 64 KiB of text. */
export class ServiceLogFollower {
  private text = '';
  private stream: NodeJS.ReadableStream | undefined;
  private closed = false;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly docker: Docker,
    private readonly serviceId: string,
  ) {}

  /** What the service printed so far (the last 64 KiB). */
  get output(): string {
    return this.text;
  }

  async start(): Promise<void> {
    const stream = await this.docker
      .getService(this.serviceId)
      .logs({ follow: true, stdout: true, stderr: true });
    if (this.closed) {
      destroy(stream);
      return;
    }
    this.stream = stream;
    const demux = new LogDemuxer();
    stream.on('data', (chunk: Buffer | string) => {
      this.text += demux.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      if (this.text.length > MAX_KEPT) this.text = this.text.slice(-MAX_KEPT);
      this.wake();
    });
    const ended = (): void => {
      this.closed = true;
      this.wake();
    };
    stream.on('end', ended);
    stream.on('error', ended);
  }

  /**
   * Resolves with the first line `match` accepts. Rejects when `signal` aborts; resolves undefined when the
   * stream ends without one, or when `check` (called when nothing new arrived for a while) says to stop.
   */
  async waitForLine(
    match: (line: string) => boolean,
    signal: AbortSignal,
    check: () => Promise<boolean>,
    checkEveryMs = 500,
  ): Promise<string | undefined> {
    for (;;) {
      if (signal.aborted) throw abortError();
      const line = this.text.split(/\r?\n/).find(match);
      if (line !== undefined) return line;
      if (this.closed || (await check())) return undefined;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, checkEveryMs);
        signal.addEventListener('abort', done);
        this.waiters.add(done);
      });
    }
  }

  close(): void {
    this.closed = true;
    if (this.stream) destroy(this.stream);
    this.stream = undefined;
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

function destroy(stream: NodeJS.ReadableStream): void {
  (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
}

/** The service's last `lines` log lines (stdout and stderr), '' when it has none or is gone. */
export async function serviceLogTail(docker: Docker, serviceId: string, lines = 30): Promise<string> {
  try {
    const raw = (await docker
      .getService(serviceId)
      .logs({ follow: false, stdout: true, stderr: true, tail: lines })) as unknown;
    const buf = Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw));
    return new LogDemuxer().push(buf).trim();
  } catch {
    return '';
  }
}
