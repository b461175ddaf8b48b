// Host keys the user confirms ("Trust this host?" in the app, the CLI's prompt or --accept-new-host-key). A key
// is written to known_hosts only when the host presents, right now, exactly the fingerprint the user saw: it is
// fetched again and compared, so a key swapped between the question and the answer is refused.
// Fetching needs no login: ssh2 hands the key to hostVerifier during the key exchange, before authentication,
// and refusing it there ends the handshake.
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import {
  appendKnownHost,
  checkHostKey,
  defaultKnownHostsFiles,
  fingerprintOf,
  hostToken,
  keyTypeOf,
} from './known-hosts';
import { openSsh, type SshConnection, type SshTarget } from './ssh-connection';
import { HostKeyChangedError, SshError, toSshError } from './ssh-errors';

// ssh2 is CommonJS: its named exports are not visible to ESM imports.
const { Client } = ssh2;

/** One hop's key as the host presents it, and what known_hosts says about it. */
export interface HostKeyStatus {
  host: string;
  port: number;
  /** "SHA256:…" as `ssh-keygen -l` prints it. */
  fingerprint: string;
  /** "ssh-ed25519", "ecdsa-sha2-nistp256", … */
  keyType: string;
  status: 'known' | 'unknown' | 'changed';
  /** For a changed key: the fingerprints known_hosts has for this host. */
  known?: string[];
}

/** What the user confirmed: trust this fingerprint for host:port. */
export interface HostKeyConfirmation {
  host: string;
  port: number;
  fingerprint: string;
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

/** The files checked for `target`; an accepted key goes to the first (the cluster's file, else ~/.ssh/known_hosts). */
export function knownHostsFilesOf(target: SshTarget): string[] {
  return (target.knownHostsFiles?.length ? target.knownHostsFiles : defaultKnownHostsFiles()).map(expandHome);
}

/** The key blob `host:port` presents, over `sock` when given (a channel through a jump host). */
export function fetchHostKey(
  host: string,
  port: number,
  opts: { sock?: Duplex; timeoutMs?: number } = {},
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let key: Buffer | undefined;
    let settled = false;
    const done = (err: unknown): void => {
      if (settled) return;
      settled = true;
      client.end();
      if (key) resolve(key);
      else reject(toSshError(err, { host, port }));
    };
    client.on('error', done);
    client.on('close', () =>
      done(new SshError('closed', `${host}:${port} closed the connection`, 'Try again.')),
    );
    client.on('ready', () => done(new Error('the host accepted a login that was not attempted')));
    try {
      client.connect({
        host,
        port,
        username: 'host-key-check',
        ...(opts.sock ? { sock: opts.sock } : {}),
        readyTimeout: opts.timeoutMs ?? 15_000,
        hostVerifier: (k: Buffer): boolean => {
          key = Buffer.from(k);
          return false; // seen: stop before any authentication
        },
      });
    } catch (err) {
      done(err);
    }
  });
}

interface Hop {
  host: string;
  port: number;
  /** Reached through the jump host. */
  viaJump: boolean;
}

/** The hosts whose keys a connection to `target` checks, in order: the jump host, then the target. */
function hopsOf(target: SshTarget): Hop[] {
  const main: Hop = { host: target.host, port: target.port ?? 22, viaJump: Boolean(target.jump) };
  if (!target.jump) return [main];
  return [{ host: target.jump.host, port: target.jump.port ?? 22, viaJump: false }, main];
}

async function keyOf(target: SshTarget, hop: Hop, timeoutMs: number): Promise<Buffer> {
  if (!hop.viaJump) return fetchHostKey(hop.host, hop.port, { timeoutMs });
  // Behind a jump host: log in there (its own key must already be trusted), then ask over a channel.
  const j = target.jump!;
  let jump: SshConnection | undefined;
  try {
    jump = await openSsh({
      host: j.host,
      port: j.port ?? 22,
      user: j.user ?? target.user,
      auth: target.auth,
      knownHostsFiles: knownHostsFilesOf(target),
      readyTimeoutMs: timeoutMs,
    });
    const sock = await jump.forwardOut(hop.host, hop.port);
    return await fetchHostKey(hop.host, hop.port, { sock, timeoutMs });
  } finally {
    jump?.close();
  }
}

function statusOf(files: string[], hop: Hop, key: Buffer): HostKeyStatus {
  const check = checkHostKey(files, hop.host, hop.port, key);
  const base = { host: hop.host, port: hop.port, fingerprint: fingerprintOf(key), keyType: keyTypeOf(key) };
  if (check === 'match') return { ...base, status: 'known' };
  if (check === 'unknown') return { ...base, status: 'unknown' };
  return { ...base, status: 'changed', known: check.changed };
}

/**
 * The first hop of `target` whose key is not trusted (unknown or changed), or null when all are. Stops at the
 * first: a host behind an untrusted jump host is not asked.
 */
export async function firstUntrustedHostKey(
  target: SshTarget,
  timeoutMs = 15_000,
): Promise<HostKeyStatus | null> {
  const files = knownHostsFilesOf(target);
  for (const hop of hopsOf(target)) {
    const s = statusOf(files, hop, await keyOf(target, hop, timeoutMs));
    if (s.status !== 'known') return s;
  }
  return null;
}

/**
 * Trust `confirmed` for `target`'s connection: re-fetch the host's key, and append it to the first known_hosts
 * file only if its fingerprint is the confirmed one and the files do not know another key for the host.
 * Returns the file written, or null when the key was already trusted.
 */
export async function trustHostKey(
  target: SshTarget,
  confirmed: HostKeyConfirmation,
  timeoutMs = 15_000,
): Promise<string | null> {
  const hop = hopsOf(target).find((h) => h.host === confirmed.host && h.port === confirmed.port);
  const name = hostToken(confirmed.host, confirmed.port);
  if (!hop)
    throw new SshError(
      'config',
      `${name} is not a host this cluster connects to`,
      'Test the connection again and trust the host it names.',
    );
  const key = await keyOf(target, hop, timeoutMs);
  const now = fingerprintOf(key);
  if (now !== confirmed.fingerprint)
    throw new SshError(
      'host-key-changed',
      `${name} now presents the key ${now}, not ${confirmed.fingerprint} that you confirmed; nothing was trusted.`,
      `Test the connection again, and check the new fingerprint with the administrator of ${confirmed.host} before trusting it.`,
    );
  const files = knownHostsFilesOf(target);
  const s = statusOf(files, hop, key);
  if (s.status === 'known') return null;
  if (s.status === 'changed') throw new HostKeyChangedError(hop.host, hop.port, s.known ?? [], now);
  appendKnownHost(files[0], hop.host, hop.port, key);
  return files[0];
}
