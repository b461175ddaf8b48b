// One SSH connection (ssh2, in process: no `ssh` child processes, no ControlMaster sockets): host keys checked
// against known_hosts as OpenSSH does, the agent / a key file / a password, an optional jump host, and the
// three things the SSH backend needs from it: exec with stdin, direct-tcpip forwards, and writing a file.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import ssh2, { type ConnectConfig } from 'ssh2';

// ssh2 is CommonJS: its named exports are not visible to ESM imports.
const { Client, utils } = ssh2;
type Client = InstanceType<typeof ssh2.Client>;
import {
  appendKnownHost,
  checkHostKey,
  defaultKnownHostsFiles,
  fingerprintOf,
  knownHostLine,
} from './known-hosts';
import { HostKeyChangedError, HostKeyUnknownError, SshError, toSshError } from './ssh-errors';

export interface SshAuth {
  useAgent?: boolean;
  /** The agent's socket; default SSH_AUTH_SOCK. */
  agent?: string;
  privateKeyFile?: string;
  passphrase?: string;
  password?: string;
}

export interface SshTarget {
  host: string;
  port?: number;
  user: string;
  auth: SshAuth;
  /** ProxyJump: one hop, same auth. */
  jump?: { host: string; port?: number; user?: string };
  /** Default ~/.ssh/known_hosts. */
  knownHostsFiles?: string[];
  /** A fingerprint the user just confirmed: accepted for an unknown host and appended to the first file. */
  acceptHostKey?: string;
  readyTimeoutMs?: number;
  keepaliveIntervalMs?: number;
}

export interface ExecResult {
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  stdin?: string | Buffer;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Each stdout chunk as it arrives (the result still carries all of it). */
  onStdout?: (chunk: Buffer) => void;
}

/** A reverse forward (`ssh -R`): connections to the remote host's bind address and port arrive here. */
export interface InboundForward {
  /** The remote port (sshd's choice when 0 was asked for). */
  readonly port: number;
  close(): void;
}

export interface SshConnection {
  readonly target: SshTarget;
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
  /** A channel to `host:port` as seen from the remote host. */
  forwardOut(host: string, port: number): Promise<Duplex>;
  /** Listen on `bindAddr:bindPort` of the remote host (0: any free port); each connection goes to `onStream`. */
  forwardIn(bindAddr: string, bindPort: number, onStream: (stream: Duplex) => void): Promise<InboundForward>;
  /** Write `data` to `remotePath` (relative paths are from the login's home) atomically, with `mode`. */
  writeFile(remotePath: string, data: Buffer, mode?: number): Promise<void>;
  onClose(listener: (err?: Error) => void): () => void;
  readonly closed: boolean;
  close(): void;
}

const MAX_OUTPUT = 4 * 1024 * 1024;

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

/** ssh2 auth settings for `auth`; throws SshError('config') for a key that cannot be used. */
function authConfig(auth: SshAuth, where: string): Partial<ConnectConfig> {
  const out: Partial<ConnectConfig> = {};
  const agent = auth.agent ?? process.env.SSH_AUTH_SOCK;
  if (auth.useAgent !== false && agent) out.agent = agent;
  if (auth.privateKeyFile) {
    const file = expandHome(auth.privateKeyFile);
    let key: Buffer;
    try {
      key = readFileSync(file);
    } catch (err) {
      throw new SshError(
        'config',
        `The key file ${file} cannot be read: ${(err as Error).message}`,
        'Check the "Private key file" setting.',
      );
    }
    const parsed = utils.parseKey(key, auth.passphrase);
    if (parsed instanceof Error) {
      const needsPass = /passphrase|encrypted/i.test(parsed.message);
      throw new SshError(
        'config',
        needsPass && !auth.passphrase
          ? `The key ${file} is encrypted and no passphrase is saved`
          : `The key ${file} cannot be used: ${parsed.message}`,
        needsPass
          ? 'Enter the key passphrase in the cluster settings.'
          : 'Check the key file and its passphrase.',
      );
    }
    out.privateKey = key;
    if (auth.passphrase) out.passphrase = auth.passphrase;
  }
  if (auth.password) out.password = auth.password;
  if (!out.agent && !out.privateKey && !out.password)
    throw new SshError(
      'config',
      `No way to log in to ${where}: no SSH agent runs, and no key file or password is set`,
      'Set a private key file (or start ssh-agent and ssh-add your key).',
    );
  return out;
}

class Ssh2Connection implements SshConnection {
  private isClosed = false;
  private readonly listeners = new Set<(err?: Error) => void>();
  private lastError: Error | undefined;
  /** Reverse forwards by `addr:port`: where sshd's forwarded-tcpip channels go. */
  private readonly inbound = new Map<string, (stream: Duplex) => void>();

  constructor(
    readonly target: SshTarget,
    private readonly client: Client,
    private readonly jump: Client | undefined,
  ) {
    client.on('error', (err) => (this.lastError = err));
    client.on('close', () => this.markClosed());
    jump?.on('close', () => client.end());
    client.on('tcp connection', (info, accept, reject) => {
      const onStream = this.inbound.get(`${info.destIP}:${info.destPort}`);
      if (onStream) onStream(accept());
      else reject();
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      if (this.isClosed)
        return reject(new SshError('closed', 'The SSH connection is closed', 'Connect again.'));
      if (opts.signal?.aborted) return reject(opts.signal.reason);
      this.client.exec(command, (err, stream) => {
        if (err)
          return reject(new SshError('exec', `Cannot run a command: ${err.message}`, 'Connect again.'));
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let size = 0;
        let timer: NodeJS.Timeout | undefined;
        const stop = (why: Error): void => {
          cleanup();
          stream.close();
          reject(why);
        };
        const onAbort = (): void =>
          stop(
            new SshError('exec', `"${command.slice(0, 80)}" was cancelled`, '', {
              cause: opts.signal?.reason,
            }),
          );
        const cleanup = (): void => {
          if (timer) clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
        };
        if (opts.timeoutMs)
          timer = setTimeout(
            () =>
              stop(
                new SshError(
                  'exec',
                  `"${command.slice(0, 80)}" did not finish within ${Math.round(opts.timeoutMs! / 1000)} s`,
                  'Check that the host is not overloaded, or raise the timeout.',
                ),
              ),
            opts.timeoutMs,
          );
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        const collect = (into: Buffer[]) => (d: Buffer) => {
          size += d.length;
          if (size <= MAX_OUTPUT) into.push(d);
        };
        stream.on('data', collect(out));
        if (opts.onStdout) stream.on('data', opts.onStdout);
        stream.stderr.on('data', collect(errOut));
        stream.on('close', (code: number | null, signal?: string) => {
          cleanup();
          resolve({
            code: code ?? null,
            ...(signal ? { signal } : {}),
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(errOut).toString('utf8'),
          });
        });
        stream.end(opts.stdin ?? '');
      });
    });
  }

  forwardOut(host: string, port: number): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      if (this.isClosed)
        return reject(new SshError('closed', 'The SSH connection is closed', 'Connect again.'));
      this.client.forwardOut('127.0.0.1', 0, host, port, (err, stream) =>
        err ? reject(err) : resolve(stream),
      );
    });
  }

  forwardIn(bindAddr: string, bindPort: number, onStream: (stream: Duplex) => void): Promise<InboundForward> {
    return new Promise((resolve, reject) => {
      if (this.isClosed)
        return reject(new SshError('closed', 'The SSH connection is closed', 'Connect again.'));
      this.client.forwardIn(bindAddr, bindPort, (err, bound) => {
        if (err)
          return reject(
            new SshError(
              'exec',
              `${this.target.host} refused to listen on ${bindAddr}:${bindPort} for us: ${err.message}`,
              "Allow TCP forwarding for this login in the host's sshd_config (AllowTcpForwarding yes or remote).",
            ),
          );
        const port = bound || bindPort;
        const key = `${bindAddr}:${port}`;
        this.inbound.set(key, onStream);
        resolve({
          port,
          close: () => {
            if (this.inbound.delete(key) && !this.isClosed) this.client.unforwardIn(bindAddr, port);
          },
        });
      });
    });
  }

  async writeFile(remotePath: string, data: Buffer, mode = 0o600): Promise<void> {
    const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
    const dir = path.posix.dirname(remotePath);
    const tmp = `${remotePath}.${process.pid}.${Date.now()}.tmp`;
    const cmd =
      `umask 077 && mkdir -p ${q(dir)} && cat > ${q(tmp)} && chmod ${mode.toString(8)} ${q(tmp)} && ` +
      `mv -f ${q(tmp)} ${q(remotePath)}`;
    const res = await this.exec(cmd, { stdin: data, timeoutMs: 60_000 });
    if (res.code !== 0)
      throw new SshError(
        'exec',
        `Cannot write ${remotePath} on ${this.target.host}: ${res.stderr.trim() || `exit code ${String(res.code)}`}`,
        'Check that the home directory on the host is writable and not full.',
      );
  }

  onClose(listener: (err?: Error) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.client.end();
    this.jump?.end();
    this.markClosed();
  }

  private markClosed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.jump?.end();
    for (const l of [...this.listeners]) l(this.lastError);
    this.listeners.clear();
  }
}

/** Connect one ssh2 client over `sock` (or TCP), with the host-key check; resolves when ready. */
function connectClient(
  target: SshTarget,
  host: string,
  port: number,
  user: string,
  sock: Duplex | undefined,
  signal: AbortSignal | undefined,
  via: string | undefined,
): Promise<Client> {
  const files = (target.knownHostsFiles ?? defaultKnownHostsFiles()).map(expandHome);
  const ctx = { host, port, user, ...(via ? { via } : {}) };
  return new Promise((resolve, reject) => {
    const client = new Client();
    let keyError: SshError | undefined;
    let settled = false;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      client.end();
      reject(keyError ?? toSshError(err, ctx));
    };
    const onAbort = (): void => fail(new SshError('closed', `Connecting to ${host} was cancelled`, ''));
    signal?.addEventListener('abort', onAbort, { once: true });
    client.on('ready', () => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      resolve(client);
    });
    client.on('error', fail);
    client.on('close', () =>
      fail(new SshError('closed', `${host}:${port} closed the connection`, 'Try again.')),
    );
    const hostVerifier = (key: Buffer): boolean => {
      const check = checkHostKey(files, host, port, key);
      if (check === 'match') return true;
      const fp = fingerprintOf(key);
      if (check === 'unknown') {
        if (target.acceptHostKey === fp && files[0]) {
          appendKnownHost(files[0], host, port, key);
          return true;
        }
        keyError = new HostKeyUnknownError(host, port, fp, knownHostLine(host, port, key));
        return false;
      }
      keyError = new HostKeyChangedError(host, port, check.changed, fp);
      return false;
    };
    try {
      client.connect({
        host,
        port,
        username: user,
        ...(sock ? { sock } : {}),
        ...authConfig(target.auth, `${user}@${host}`),
        hostVerifier,
        readyTimeout: target.readyTimeoutMs ?? 15_000,
        keepaliveInterval: target.keepaliveIntervalMs ?? 15_000,
        keepaliveCountMax: 3,
      });
    } catch (err) {
      fail(err);
    }
  });
}

export async function openSsh(target: SshTarget, signal?: AbortSignal): Promise<SshConnection> {
  const port = target.port ?? 22;
  if (!target.jump) {
    const client = await connectClient(target, target.host, port, target.user, undefined, signal, undefined);
    return new Ssh2Connection(target, client, undefined);
  }
  const j = target.jump;
  const jumpUser = j.user ?? target.user;
  const jumpPort = j.port ?? 22;
  const jump = await connectClient(target, j.host, jumpPort, jumpUser, undefined, signal, undefined);
  try {
    const sock = await new Promise<Duplex>((resolve, reject) =>
      jump.forwardOut('127.0.0.1', 0, target.host, port, (err, s) =>
        err ? reject(toSshError(err, { host: target.host, port, via: `${jumpUser}@${j.host}` })) : resolve(s),
      ),
    );
    const client = await connectClient(target, target.host, port, target.user, sock, signal, j.host);
    return new Ssh2Connection(target, client, jump);
  } catch (err) {
    jump.end();
    throw err;
  }
}
