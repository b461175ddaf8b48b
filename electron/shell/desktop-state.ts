// Small persisted state of the desktop shell, in plain Node (no Electron): command-line values, JSON files
// written atomically and owner-only, and the proxy's stable port and token.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** `--name value` or `--name=value` from a command line. */
export function argValue(argv: string[], name: string): string | undefined {
  const i = argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return undefined;
  const a = argv[i];
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1];
}

export function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

export function writeJson(file: string, value: unknown, mode = 0o600): void {
  mkdirSync(join(file, '..'), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n', { mode });
  renameSync(tmp, file);
}

export interface ProxyIdentity {
  port: number;
  token: string;
}

/** The proxy's port and token, stable per install (JupyterLab configs keep working across launches). */
export function proxyIdentity(dataDir: string): ProxyIdentity & { file: string } {
  const file = join(dataDir, 'desktop-proxy.json');
  const saved = readJson<Partial<ProxyIdentity>>(file);
  const port = typeof saved?.port === 'number' && saved.port > 1023 && saved.port < 65536 ? saved.port : 0;
  const token =
    typeof saved?.token === 'string' && saved.token.length >= 32
      ? saved.token
      : randomBytes(24).toString('hex');
  return { port, token, file };
}
