// What ~/.ssh/config says about a host alias (HostName, User, Port, IdentityFile, ProxyJump), so a cluster can
// name hosts as the user's `ssh` does. Only these keys: the rest of OpenSSH's options have no meaning here.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SSHConfig from 'ssh-config';

export interface ResolvedHost {
  host: string;
  port?: number;
  user?: string;
  identityFiles: string[];
  proxyJump?: string;
}

export interface JumpHost {
  host: string;
  port?: number;
  user?: string;
}

export function defaultSshConfigFile(): string {
  return path.join(os.homedir(), '.ssh', 'config');
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

/** `alias` as ~/.ssh/config resolves it; a missing or unreadable file resolves to the alias itself. */
export function resolveSshConfig(alias: string, file = defaultSshConfigFile()): ResolvedHost {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { host: alias, identityFiles: [] };
  }
  const c = SSHConfig.parse(text).compute(alias);
  const one = (k: string): string | undefined => {
    const v = c[k];
    return Array.isArray(v) ? v[0] : v;
  };
  const port = Number(one('Port'));
  const ids = c.IdentityFile;
  const jump = one('ProxyJump');
  const user = one('User');
  return {
    host: one('HostName') ?? alias,
    ...(Number.isInteger(port) && port > 0 ? { port } : {}),
    ...(user ? { user } : {}),
    identityFiles: (Array.isArray(ids) ? ids : ids ? [ids] : []).map(expandHome),
    ...(jump && jump.toLowerCase() !== 'none' ? { proxyJump: jump } : {}),
  };
}

/** `user@host:port` (any part but host optional; the first hop of a comma list) -> its parts. */
export function parseJump(text: string): JumpHost {
  const first = text.split(',')[0]!.trim();
  const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(first);
  if (!m) throw new Error(`"${text}" is not a jump host: write user@host[:port]`);
  const host = m[2]!.replace(/^\[|\]$/g, '');
  return { host, ...(m[3] ? { port: Number(m[3]) } : {}), ...(m[1] ? { user: m[1] } : {}) };
}

/**
 * A ProxyJump value resolved as OpenSSH does: a jump host named by an alias takes that alias's HostName, Port and
 * User from the same config (a login node is usually an alias itself); what the value spells out wins.
 */
export function resolveJump(text: string, file?: string): JumpHost {
  const j = parseJump(text);
  const r = resolveSshConfig(j.host, file);
  const port = j.port ?? r.port;
  const user = j.user ?? r.user;
  return { host: r.host, ...(port ? { port } : {}), ...(user ? { user } : {}) };
}
