// Which Docker Engine a cluster talks to, and a dockerode client for it. One place reads the host setting, so
// Docker and Swarm clusters, their diagnosis and the orphan listing agree on what "the engine" is.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { dockerModemSsh, engineSshTarget, type EngineSshSettings } from './engine-ssh';

/** Where the engine is. Unset host: DOCKER_HOST, else the local socket (as the docker CLI does). */
export interface EngineSettings {
  /** `unix:///path/docker.sock`, `tcp://host:port` (TLS when `tls` is set) or `ssh://user@host[:port]`. */
  host?: string;
  /** PEM file paths for a TCP engine with TLS (client certificate and the CA that signed the engine's). */
  tls?: { ca?: string; cert?: string; key?: string };
  /** How an ssh:// engine's host is logged in to (key file, known_hosts). */
  ssh?: EngineSshSettings;
}

/** The engine's address as the user wrote it (or where it comes from), for messages. */
export type EngineAddress =
  | { kind: 'unix'; socketPath: string }
  | { kind: 'tcp'; host: string; port: number; tls: boolean }
  | { kind: 'ssh'; host: string; port: number; user?: string };

/** A host setting that is not an engine address; the message says what one looks like. */
export class EngineAddressError extends Error {
  override name = 'EngineAddressError';
}

const DEFAULT_SOCKET = '/var/run/docker.sock';

/** The host setting in effect: the setting, else DOCKER_HOST, else the local socket. */
export function effectiveHost(s: EngineSettings, env: NodeJS.ProcessEnv = process.env): string {
  return s.host?.trim() || env.DOCKER_HOST?.trim() || `unix://${DEFAULT_SOCKET}`;
}

/** Parses an engine address (`unix://`, `tcp://`, `http(s)://`, `ssh://`); throws what a valid one looks like. */
export function parseEngineHost(host: string, tls = false): EngineAddress {
  const bad = (why: string): EngineAddressError =>
    new EngineAddressError(
      `Docker host "${host}" ${why}: use unix:///var/run/docker.sock, tcp://HOST:2376 (with TLS files) or ` +
        'ssh://USER@HOST[:PORT]',
    );
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length) || DEFAULT_SOCKET;
    if (!path.isAbsolute(socketPath)) throw bad('has a relative socket path');
    return { kind: 'unix', socketPath };
  }
  let u: URL;
  try {
    u = new URL(host.includes('://') ? host : `tcp://${host}`);
  } catch {
    throw bad('is not an address');
  }
  if (!u.hostname) throw bad('has no host name');
  if (u.protocol === 'ssh:')
    return {
      kind: 'ssh',
      host: u.hostname,
      port: u.port ? Number(u.port) : 22,
      user: u.username ? decodeURIComponent(u.username) : undefined,
    };
  if (u.protocol === 'tcp:' || u.protocol === 'http:' || u.protocol === 'https:') {
    if (!u.port && u.protocol === 'tcp:') throw bad('has no port');
    const secure = tls || u.protocol === 'https:';
    const port = u.port ? Number(u.port) : secure ? 2376 : 2375;
    return { kind: 'tcp', host: u.hostname, port, tls: secure };
  }
  throw bad(`has the unknown scheme ${u.protocol}`);
}

/** "the local Docker Engine (/var/run/docker.sock)", "Docker Engine at tcp://lab:2376 (TLS)", … */
export function describeEngine(s: EngineSettings): string {
  const host = effectiveHost(s);
  let a: EngineAddress;
  try {
    a = parseEngineHost(host, hasTls(s));
  } catch {
    return `Docker Engine at ${host}`;
  }
  const from = s.host?.trim() ? '' : process.env.DOCKER_HOST?.trim() ? ' (from DOCKER_HOST)' : '';
  if (a.kind === 'unix') return `the Docker Engine at ${a.socketPath}${from}`;
  if (a.kind === 'tcp')
    return `the Docker Engine at tcp://${a.host}:${a.port}${a.tls ? ' (TLS)' : ''}${from}`;
  return `the Docker Engine at ssh://${a.user ? `${a.user}@` : ''}${a.host}:${a.port}${from}`;
}

function hasTls(s: EngineSettings): boolean {
  return Boolean(s.tls && (s.tls.ca || s.tls.cert || s.tls.key));
}

function readPem(what: string, file: string): Buffer {
  try {
    return readFileSync(file.startsWith('~/') ? path.join(homedir(), file.slice(2)) : file);
  } catch (err) {
    throw new EngineAddressError(`cannot read the TLS ${what} file ${file}: ${(err as Error).message}`);
  }
}

/**
 * A dockerode client for the engine. ssh:// runs `docker system dial-stdio` on the host (docker-modem), with
 * the login of engineSshTarget() and the host key checked against known_hosts as `ssh` would: an unknown or
 * changed key is refused.
 */
export function engineClient(s: EngineSettings): Docker {
  const a = parseEngineHost(effectiveHost(s), hasTls(s));
  // `host: undefined` matters: docker-modem merges DOCKER_HOST under the options, and a host from there
  // would win over our socketPath.
  if (a.kind === 'unix') return new Docker({ socketPath: a.socketPath, host: undefined });
  if (a.kind === 'tcp') {
    const t = s.tls ?? {};
    return new Docker({
      host: a.host,
      port: a.port,
      protocol: a.tls ? 'https' : 'http',
      ca: t.ca ? readPem('CA', t.ca) : undefined,
      cert: t.cert ? readPem('certificate', t.cert) : undefined,
      key: t.key ? readPem('key', t.key) : undefined,
    });
  }
  const t = dockerModemSsh(engineSshTarget(a, s.ssh));
  return new Docker({ ...t, protocol: 'ssh' });
}
