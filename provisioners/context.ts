// What every provisioner of the app shares: a logger, a pool of connections that kernels share (one SSH
// connection per host, one Kubernetes API client per cluster), and later the response listener that remote
// launchers report their connection info to. One context per app; factories get it with each kernel.
import type { V1Payload } from './remote/payload-v1';

/** A shared connection, counted: it is opened by the first `acquire` of its key, closed after the last release. */
export interface PoolLease<T> {
  readonly value: T;
  /** Give the lease back; the connection closes when no lease on it remains. Idempotent. */
  release(): Promise<void>;
}

interface PoolEntry {
  value: Promise<unknown>;
  close: (value: never) => Promise<void> | void;
  leases: number;
}

/** Connections shared between kernels, keyed by what they reach (e.g. `ssh:user@host:22`). */
export class ConnectionPool {
  private readonly entries = new Map<string, PoolEntry>();

  /**
   * A lease on the connection for `key`, opening it with `open` when there is none. A failed open is not kept:
   * the next acquire tries again.
   */
  async acquire<T>(
    key: string,
    open: () => Promise<T>,
    close: (value: T) => Promise<void> | void,
  ): Promise<PoolLease<T>> {
    let entry = this.entries.get(key);
    if (!entry) {
      const created: PoolEntry = { value: open(), close: close as (v: never) => void, leases: 0 };
      entry = created;
      this.entries.set(key, created);
      created.value.catch(() => {
        if (this.entries.get(key) === created) this.entries.delete(key);
      });
    }
    entry.leases++;
    const held = entry;
    let value: T;
    try {
      value = (await held.value) as T;
    } catch (err) {
      held.leases--;
      throw err;
    }
    let released = false;
    return {
      value,
      release: async () => {
        if (released) return;
        released = true;
        if (--held.leases > 0) return;
        if (this.entries.get(key) === held) this.entries.delete(key);
        await (held.close as (v: T) => Promise<void> | void)(value);
      },
    };
  }

  /** Keys with an open (or opening) connection. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** Close every connection (app exit). Leases still out become no-ops on the closed connection. */
  async closeAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(
      all.map(async (e) => {
        try {
          await e.close((await e.value) as never);
        } catch {
          // already broken: nothing to close
        }
      }),
    );
  }
}

/**
 * Where remote launchers send their connection info (Gateway Provisioners' `--response-address`); implemented by
 * `V1ResponseListener` (remote/response-listener.ts), set as `ProvisionerContext.responseListener`.
 */
export interface ResponseListener {
  /** `host:port` the launcher is given. */
  readonly address: string;
  /** The launcher's public key (`--public-key`). */
  readonly publicKey: string;
  /**
   * Wait for kernel `kernelId`'s payload, until `signal` aborts (rejects with its reason). Call it before starting
   * the launcher: payloads nobody waits for are dropped.
   */
  waitFor(kernelId: string, signal: AbortSignal): Promise<V1Payload>;
  /** Stop listening; pending waits reject. */
  close(): Promise<void>;
}

export interface ProvisionerContext {
  /** Diagnostics sink (the app's log). */
  log(message: string): void;
  /** Connections shared by kernels. */
  readonly pool: ConnectionPool;
  /** Set once a backend that needs it exists. */
  responseListener?: ResponseListener;
}

/** A context with its own pool; `log` defaults to console.warn with a prefix. */
export function createProvisionerContext(
  opts: { log?: (message: string) => void; responseListener?: ResponseListener } = {},
): ProvisionerContext {
  return {
    log: opts.log ?? ((m: string) => console.warn(`[provisioners] ${m}`)),
    pool: new ConnectionPool(),
    ...(opts.responseListener ? { responseListener: opts.responseListener } : {}),
  };
}
