// OpenSSH known_hosts, read the way ssh(1) reads it, so a host the user already trusts in a terminal is
// trusted here too: comma host lists, `[host]:port` for ports other than 22, hashed `|1|salt|hash` names,
// `*`/`?` wildcards and `!` negations. `@revoked` keys are refused (reported as changed) and
// `@cert-authority` lines are skipped (no certificate support).
import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface KnownHostEntry {
  marker?: '@revoked' | '@cert-authority';
  /** Host patterns as written (hashed ones stay `|1|salt|hash`). */
  patterns: string[];
  keyType: string;
  keyBlob: Buffer;
}

export type HostKeyCheck = 'match' | 'unknown' | { changed: string[] };

export function defaultKnownHostsFiles(): string[] {
  return [join(homedir(), '.ssh', 'known_hosts')];
}

/** "SHA256:" + unpadded base64 of the key blob's SHA-256, as `ssh-keygen -l` prints it. */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type is the first length-prefixed string of an SSH public key blob ("ssh-ed25519", ...). */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) throw new Error('not an SSH public key blob (too short)');
  const n = keyBlob.readUInt32BE(0);
  if (n > 64 || 4 + n > keyBlob.length) throw new Error('not an SSH public key blob (bad type length)');
  return keyBlob.subarray(4, 4 + n).toString('latin1');
}

/** The name known_hosts stores: `host` on port 22, `[host]:port` otherwise. */
export function hostToken(host: string, port = 22): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0].startsWith('@')) {
      const m = fields.shift()!;
      if (m !== '@revoked' && m !== '@cert-authority') continue; // unknown marker: ignore the line, as ssh does
      marker = m;
    }
    if (fields.length < 3) continue;
    const [hosts, keyType, b64] = fields;
    const keyBlob = Buffer.from(b64, 'base64');
    if (keyBlob.length === 0) continue;
    out.push({ marker, patterns: hosts.split(','), keyType, keyBlob });
  }
  return out;
}

function globMatch(pattern: string, name: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(name);
}

function hashedMatch(pattern: string, name: string): boolean {
  const [, kind, salt, hash] = pattern.split('|');
  if (kind !== '1' || !salt || !hash) return false;
  const h = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
  return h === hash;
}

/** Does this entry name `host:port`? A matching `!pattern` excludes it whatever else matches. */
export function entryMatches(e: KnownHostEntry, host: string, port = 22): boolean {
  const name = hostToken(host, port);
  let hit = false;
  for (const p of e.patterns) {
    if (p.startsWith('|')) {
      if (hashedMatch(p, name)) hit = true;
    } else if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) hit = true;
  }
  return hit;
}

function readEntries(files: string[]): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue; // a missing file just knows no hosts
    }
    out.push(...parseKnownHosts(text));
  }
  return out;
}

/**
 * Compare the key a host presented with what the files know. "changed" lists the fingerprints known for
 * this host and key type (or, when only other types are known, all of them, as ssh also refuses then).
 * A revoked key is reported as changed.
 */
export function checkHostKey(files: string[], host: string, port: number, keyBlob: Buffer): HostKeyCheck {
  const entries = readEntries(files).filter(
    (e) => e.marker !== '@cert-authority' && entryMatches(e, host, port),
  );
  if (entries.some((e) => e.marker === '@revoked' && e.keyBlob.equals(keyBlob)))
    return { changed: entries.filter((e) => e.marker !== '@revoked').map((e) => fingerprintOf(e.keyBlob)) };
  const plain = entries.filter((e) => !e.marker);
  if (plain.some((e) => e.keyBlob.equals(keyBlob))) return 'match';
  if (plain.length === 0) return 'unknown';
  const type = keyTypeOf(keyBlob);
  const sameType = plain.filter((e) => e.keyType === type);
  return { changed: (sameType.length ? sameType : plain).map((e) => fingerprintOf(e.keyBlob)) };
}

/** The line appendKnownHost writes (unhashed, like `ssh -o HashKnownHosts=no`). */
export function knownHostLine(host: string, port: number, keyBlob: Buffer): string {
  return `${hostToken(host, port)} ${keyTypeOf(keyBlob)} ${keyBlob.toString('base64')}`;
}

/** Trust this key from now on: append it to `file`, creating ~/.ssh (0700) and the file (0600) if needed. */
export function appendKnownHost(file: string, host: string, port: number, keyBlob: Buffer): void {
  const dir = dirname(file);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fresh = !existsSync(file);
  let prefix = '';
  if (!fresh) {
    const cur = readFileSync(file, 'utf8');
    if (cur.length && !cur.endsWith('\n')) prefix = '\n';
  }
  appendFileSync(file, `${prefix}${knownHostLine(host, port, keyBlob)}\n`, { mode: 0o600 });
  if (fresh) chmodSync(file, 0o600);
}
