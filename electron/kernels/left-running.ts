// The "left running" state file, `<dataDir>/kernels-left-running.json` (owner-only, written atomically):
// the kernels the app did not shut down when it quit, with what is needed to re-attach to them on the next
// start under the same ids. It holds each local kernel's connection info, HMAC key included, so it never
// leaves the main process (the host API and the renderer only ever see kernel ids and states).
//
// The same file doubles as a journal while the app runs (`status: 'running'`, rewritten on every kernel
// start, restart and exit): if the app crashes, the next start finds the kernels it could not shut down and
// re-attaches them instead of leaving invisible orphans.
import { chmod, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { clusterKinds } from '../clusters/kinds';

export const LEFT_RUNNING_FILE = 'kernels-left-running.json';
const VERSION = 1;

/**
 * How to reach a kernel that a cluster left running, as the kind's runtime saves it (keepInfo) and reads it
 * back (its descriptor's kept.parse, then reattachKernel). The file stores whatever the kind defines.
 */
export interface KeptKernelDetails {
  /** The cluster kind whose descriptor reads the rest (kept.parse) and whose runtime re-attaches it. */
  readonly kind: string;
  /** Whatever that kind saves (plain JSON): a local kernel's pid and connection, a gateway's upstream id. */
  readonly [field: string]: unknown;
}

/** One kernel in the state file. */
export interface KeptKernelRecord {
  /** The proxy's kernel id; re-attached under the same one. */
  id: string;
  clusterId: string;
  /** The kernelspec name the client asked for (own or pinned name). */
  specName: string;
  /** The spec's own name on its cluster. */
  clusterSpecName: string;
  /** ISO 8601. */
  startedAt: string;
  /** The KERNEL_* parameters it was started with (shown again after re-attaching). */
  params?: Record<string, string>;
  details: KeptKernelDetails;
}

export interface LeftRunningState {
  version: typeof VERSION;
  /** `left-running`: the user chose to keep them at quit; `running`: a journal of a live (or crashed) app. */
  status: 'left-running' | 'running';
  /** The app process that wrote the file. */
  pid: number;
  /** ISO 8601. */
  savedAt: string;
  kernels: KeptKernelRecord[];
}

/** The state file could not be parsed; it was moved to `movedTo`. */
export class CorruptStateFileError extends Error {
  constructor(
    readonly file: string,
    readonly movedTo: string | null,
    detail: string,
  ) {
    super(
      `The state file of kernels left running, ${file}, is unreadable (${detail}); ` +
        (movedTo ? `it was moved to ${movedTo}` : 'it could not be moved aside') +
        ' and no kernel is re-attached from it.',
    );
    this.name = 'CorruptStateFileError';
  }
}

export function leftRunningPath(dataDir: string): string {
  return path.join(dataDir, LEFT_RUNNING_FILE);
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

/** A record's details are its cluster kind's to read (electron/clusters/kinds/<kind>/: kept.parse). */
function parseDetails(v: unknown): KeptKernelDetails | null {
  if (!isObj(v) || !isStr(v.kind)) return null;
  const parsed = clusterKinds.get(v.kind)?.kept?.parse({ ...v, kind: v.kind });
  // What a kind's parse returns is what that kind's runtime saved (keepInfo) and takes back (reattachKernel).
  return (parsed as KeptKernelDetails | null | undefined) ?? null;
}

/** One record, or the reason it cannot be used. */
const paramsOk = (p: unknown): p is Record<string, string> =>
  isObj(p) && Object.values(p).every((x) => typeof x === 'string');

function parseRecord(v: unknown): KeptKernelRecord | string {
  if (!isObj(v)) return 'not an object';
  if (!isStr(v.id) || !isStr(v.clusterId) || !isStr(v.specName)) return 'id, clusterId or specName missing';
  const details = parseDetails(v.details);
  if (!details) return `kernel ${v.id}: unusable details`;
  return {
    id: v.id,
    clusterId: v.clusterId,
    specName: v.specName,
    clusterSpecName: isStr(v.clusterSpecName) ? v.clusterSpecName : v.specName,
    startedAt: isStr(v.startedAt) && !Number.isNaN(Date.parse(v.startedAt)) ? v.startedAt : '',
    ...(paramsOk(v.params) ? { params: v.params } : {}),
    details,
  };
}

export interface ReadResult {
  state: LeftRunningState | null;
  /** Records that were skipped, with why. */
  skipped: string[];
}

/**
 * Read the state file: null state when there is none. A file that is not valid JSON or not this format is
 * moved aside (`<file>.corrupt-<time>`) and reported with a {@link CorruptStateFileError}; startup goes on.
 */
export async function readLeftRunning(dataDir: string): Promise<ReadResult> {
  const file = leftRunningPath(dataDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: null, skipped: [] };
    throw new CorruptStateFileError(file, null, (err as Error).message);
  }
  let raw: unknown;
  let problem: string | null = null;
  try {
    raw = JSON.parse(text);
    if (!isObj(raw)) problem = 'not a JSON object';
    else if (raw.version !== VERSION) problem = `unknown version ${JSON.stringify(raw.version)}`;
    else if (!Array.isArray(raw.kernels)) problem = 'no "kernels" list';
  } catch (err) {
    problem = `invalid JSON: ${(err as Error).message}`;
  }
  if (problem || !isObj(raw)) {
    const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const moved = await rename(file, aside).then(
      () => aside,
      () => null,
    );
    throw new CorruptStateFileError(file, moved, problem ?? 'unreadable');
  }
  const skipped: string[] = [];
  const kernels: KeptKernelRecord[] = [];
  for (const r of raw.kernels as unknown[]) {
    const rec = parseRecord(r);
    if (typeof rec === 'string') skipped.push(rec);
    else kernels.push(rec);
  }
  return {
    state: {
      version: VERSION,
      status: raw.status === 'running' ? 'running' : 'left-running',
      pid: isInt(raw.pid) ? raw.pid : 0,
      savedAt: typeof raw.savedAt === 'string' ? raw.savedAt : '',
      kernels,
    },
    skipped,
  };
}

/** Write the state file atomically (temp file + rename), owner-only (0600). */
export async function writeLeftRunning(
  dataDir: string,
  status: LeftRunningState['status'],
  kernels: KeptKernelRecord[],
): Promise<void> {
  const file = leftRunningPath(dataDir);
  await mkdir(dataDir, { recursive: true });
  const state: LeftRunningState = {
    version: VERSION,
    status,
    pid: process.pid,
    savedAt: new Date().toISOString(),
    kernels,
  };
  const tmp = `${file}.${process.pid}.tmp`;
  // Created 0600 from the start: the key must never be readable by others, not even briefly.
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(JSON.stringify(state, null, 1) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}

/** Remove the state file (no error when it is not there). */
export async function removeLeftRunning(dataDir: string): Promise<void> {
  await unlink(leftRunningPath(dataDir)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}
