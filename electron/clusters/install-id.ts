// This app install's id: a random UUID kept in `<dataDir>/install-id`, made on first use. Container engines
// label our kernels with it, so one install lists and removes only its own leftovers (a colleague's app on the
// same lab server keeps its kernels).
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const FILE = 'install-id';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function installIdOf(dataDir: string): string {
  const file = path.join(dataDir, FILE);
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (UUID_RE.test(id)) return id;
  } catch {
    // first use
  }
  const id = randomUUID();
  mkdirSync(dataDir, { recursive: true });
  try {
    // 'wx': two processes starting at once keep the first one's id.
    writeFileSync(file, `${id}\n`, { mode: 0o600, flag: 'wx' });
    return id;
  } catch {
    const again = readFileSync(file, 'utf8').trim();
    if (UUID_RE.test(again)) return again;
    writeFileSync(file, `${id}\n`, { mode: 0o600 }); // unreadable junk: replace it
    return id;
  }
}
