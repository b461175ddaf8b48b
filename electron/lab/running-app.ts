// How `npm run lab` finds a Gateway Desktop (app or `npm run serve`) already running for a data dir: the
// app writes <dataDir>/proxy.json (owner-only, like Jupyter's own runtime files) while its proxy listens.
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { processAlive } from '../../provisioners/local/local-provisioner';

export const PROXY_FILE = 'proxy.json';

export interface ProxyInfo {
  url: string;
  token: string;
  pid: number;
  startedAt: string;
}

/** Advertise a listening proxy; returns a function that removes the file (only if it is still ours). */
export function advertiseProxy(dataDir: string, info: Omit<ProxyInfo, 'pid' | 'startedAt'>): () => void {
  const file = path.join(dataDir, PROXY_FILE);
  const content: ProxyInfo = { ...info, pid: process.pid, startedAt: new Date().toISOString() };
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, JSON.stringify(content, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return () => {
    try {
      const now = JSON.parse(readFileSync(file, 'utf8')) as Partial<ProxyInfo>;
      if (now.pid === process.pid) rmSync(file, { force: true });
    } catch {
      // already gone
    }
  };
}

function answers(info: ProxyInfo, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL('api/kernelspecs', info.url);
    } catch {
      resolve(false);
      return;
    }
    const req = http.get(
      u,
      { headers: { Authorization: `token ${info.token}` }, timeout: timeoutMs },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** The proxy of a running app for dataDir, when one is running and answers with its token. */
export async function findRunningProxy(dataDir: string, timeoutMs = 3000): Promise<ProxyInfo | null> {
  let info: ProxyInfo;
  try {
    info = JSON.parse(readFileSync(path.join(dataDir, PROXY_FILE), 'utf8')) as ProxyInfo;
  } catch {
    return null;
  }
  if (typeof info.url !== 'string' || typeof info.token !== 'string' || typeof info.pid !== 'number')
    return null;
  if (!processAlive(info.pid)) return null;
  return (await answers(info, timeoutMs)) ? info : null;
}
