// The cluster store: <dataDir>/clusters.json holds every cluster's settings and which one is active.
//
// - Writes are atomic (write a temp file in the same directory, then rename) and every good state is also
//   copied to clusters.json.bak (the last good copy).
// - A file that is malformed or tampered with is never silently replaced: the store reports a clear error
//   naming the file and what is wrong, keeps the broken file untouched, and runs on the last good copy.
//   The next change made through the store moves the broken file aside (clusters.json.broken-<time>).
// - The data directory is watched, so a running app picks up `npm run cluster -- ...` changes at once.
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  watch,
  writeFileSync,
  type FSWatcher,
} from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  defaultClustersFile,
  type ClustersFile,
  LOCAL_CLUSTER_ID,
  type StoredCluster as ClusterConfig,
} from './config-base';
import { validateClustersFile } from './clusters-file';

export const CLUSTERS_FILE = 'clusters.json';

/** The store file could not be used; `usingBackup` says whether the last good copy is in use. */
export class StoreFileError extends Error {
  override name = 'StoreFileError';
  constructor(
    readonly file: string,
    readonly problems: string[],
    readonly usingBackup: boolean,
    readonly backupFile: string,
  ) {
    super(
      `${file} is not a valid cluster list: ${problems.join('; ')}. ` +
        (usingBackup
          ? `Using the last good copy (${backupFile}); the broken file is left as it is for you to fix.`
          : `No good copy was found, so the default clusters are in use; the broken file is left as it is.`),
    );
  }
}

/** A request the store refuses (unknown cluster, duplicate name, removing the local cluster ...). */
export class StoreError extends Error {
  override name = 'StoreError';
}

export interface StoreChange {
  data: ClustersFile;
  /** Set while clusters.json is broken (the store runs on the last good copy). */
  problem: StoreFileError | null;
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function serialize(data: ClustersFile): string {
  return JSON.stringify(data, null, 2) + '\n';
}

function atomicWrite(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}

function parseAndValidate(
  text: string,
): { ok: true; value: ClustersFile } | { ok: false; problems: string[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    if (pos) {
      const upto = text.slice(0, Number(pos[1]));
      const line = upto.split('\n').length;
      const col = Number(pos[1]) - upto.lastIndexOf('\n');
      return { ok: false, problems: [`it is not valid JSON at line ${line}, column ${col} (${msg})`] };
    }
    return { ok: false, problems: [`it is not valid JSON (${msg})`] };
  }
  return validateClustersFile(parsed);
}

export class ClusterStore {
  readonly file: string;
  readonly backupFile: string;
  private data: ClustersFile = defaultClustersFile();
  private lastText = '';
  private _problem: StoreFileError | null = null;
  private listeners = new Set<(c: StoreChange) => void>();
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | null = null;

  private constructor(readonly dataDir: string) {
    this.file = join(dataDir, CLUSTERS_FILE);
    this.backupFile = `${this.file}.bak`;
  }

  /** Open (and create with the default "This computer" cluster if needed) the store in dataDir. */
  static open(dataDir: string): ClusterStore {
    mkdirSync(dataDir, { recursive: true });
    const s = new ClusterStore(dataDir);
    s.load(true);
    return s;
  }

  get problem(): StoreFileError | null {
    return this._problem;
  }

  snapshot(): ClustersFile {
    return clone(this.data);
  }

  list(): ClusterConfig[] {
    return clone(this.data.clusters);
  }

  activeId(): string {
    return this.data.activeClusterId;
  }

  active(): ClusterConfig {
    const c = this.data.clusters.find((x) => x.id === this.data.activeClusterId) ?? this.data.clusters[0];
    return clone(c);
  }

  /** Find by id or by name (case-insensitive). */
  get(ref: string): ClusterConfig | undefined {
    const r = ref.trim().toLowerCase();
    const c =
      this.data.clusters.find((x) => x.id === ref) ??
      this.data.clusters.find((x) => x.name.toLowerCase() === r);
    return c ? clone(c) : undefined;
  }

  /** Like get(), but throws a StoreError listing the known names. */
  require(ref: string): ClusterConfig {
    const c = this.get(ref);
    if (!c) {
      const names = this.data.clusters.map((x) => `"${x.name}"`).join(', ');
      throw new StoreError(`there is no cluster named "${ref}" (clusters: ${names})`);
    }
    return c;
  }

  add(cfg: ClusterConfig): ClusterConfig {
    this.mutate((d) => {
      if (d.clusters.some((x) => x.id === cfg.id))
        throw new StoreError(`a cluster with the id "${cfg.id}" exists`);
      if (d.clusters.some((x) => x.name.toLowerCase() === cfg.name.toLowerCase())) {
        throw new StoreError(
          `a cluster named "${cfg.name}" already exists (remove it first, or pick another name)`,
        );
      }
      d.clusters.push(clone(cfg));
    });
    return this.require(cfg.id);
  }

  /** Replace a cluster's settings (same id). */
  update(cfg: ClusterConfig): ClusterConfig {
    this.mutate((d) => {
      const i = d.clusters.findIndex((x) => x.id === cfg.id);
      if (i < 0) throw new StoreError(`there is no cluster with the id "${cfg.id}"`);
      if (d.clusters.some((x) => x.id !== cfg.id && x.name.toLowerCase() === cfg.name.toLowerCase())) {
        throw new StoreError(`a cluster named "${cfg.name}" already exists`);
      }
      d.clusters[i] = clone(cfg);
    });
    return this.require(cfg.id);
  }

  /** Remove a cluster. The local cluster stays; removing the active cluster makes "This computer" active. */
  remove(ref: string): ClusterConfig {
    const c = this.require(ref);
    if (c.id === LOCAL_CLUSTER_ID)
      throw new StoreError('"This computer" cannot be removed (you can disable it)');
    this.mutate((d) => {
      d.clusters = d.clusters.filter((x) => x.id !== c.id);
      if (d.activeClusterId === c.id) {
        d.activeClusterId = d.clusters.find((x) => x.id === LOCAL_CLUSTER_ID)?.id ?? d.clusters[0].id;
      }
    });
    return c;
  }

  /** Make a cluster active: new kernels start there. Nothing is restarted. */
  setActive(ref: string): ClusterConfig {
    const c = this.require(ref);
    if (c.enabled === false) throw new StoreError(`cluster "${c.name}" is disabled; enable it first`);
    this.mutate((d) => {
      d.activeClusterId = c.id;
    });
    return c;
  }

  /** Subscribe to changes (own writes and changes made by other processes). Returns unsubscribe. */
  onChange(listener: (c: StoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Re-read clusters.json now; returns true when the content changed. */
  reload(): boolean {
    return this.load(false);
  }

  /** Watch the data dir so changes by the CLI (or an editor) show up without a restart. Idempotent. */
  watch(): void {
    if (this.watcher) return;
    this.watcher = watch(this.dataDir, { persistent: false }, (_ev, name) => {
      if (name !== null && name !== CLUSTERS_FILE) return;
      if (this.debounce) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => {
        this.debounce = null;
        try {
          this.reload();
        } catch {
          // A transient read error (file being replaced); the next event reloads again.
        }
      }, 60);
    });
    this.watcher.on('error', () => undefined);
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = null;
    this.listeners.clear();
  }

  // -------------------------------------------------------------------------------------------------

  private emit(): void {
    const change: StoreChange = { data: this.snapshot(), problem: this._problem };
    for (const l of [...this.listeners]) {
      try {
        l(change);
      } catch {
        // listeners must not break the store
      }
    }
  }

  private readBackup(): ClustersFile | null {
    if (!existsSync(this.backupFile)) return null;
    const r = parseAndValidate(readFileSync(this.backupFile, 'utf8'));
    return r.ok ? r.value : null;
  }

  /** Load from disk. Returns true when what the store serves (data or problem) changed. */
  private load(initial: boolean): boolean {
    if (!existsSync(this.file)) {
      const backup = this.readBackup();
      const data = backup ?? defaultClustersFile();
      const text = serialize(data);
      atomicWrite(this.file, text);
      if (!backup) atomicWrite(this.backupFile, text);
      return this.apply(data, text, null, initial);
    }
    const text = readFileSync(this.file, 'utf8');
    if (text === this.lastText && !initial) return false;
    const r = parseAndValidate(text);
    if (r.ok) {
      const backupText = existsSync(this.backupFile) ? readFileSync(this.backupFile, 'utf8') : '';
      if (backupText !== text) atomicWrite(this.backupFile, text);
      return this.apply(r.value, text, null, initial);
    }
    const backup = this.readBackup();
    const problem = new StoreFileError(this.file, r.problems, backup !== null, this.backupFile);
    // Keep serving what we had when already running; otherwise the backup (or defaults).
    const data = !initial && this.lastText ? this.data : (backup ?? defaultClustersFile());
    return this.apply(data, text, problem, initial);
  }

  private apply(data: ClustersFile, text: string, problem: StoreFileError | null, initial: boolean): boolean {
    const before = JSON.stringify(this.data) + (this._problem?.message ?? '');
    this.data = data;
    this.lastText = text;
    this._problem = problem;
    const changed = before !== JSON.stringify(this.data) + (this._problem?.message ?? '');
    if (changed && !initial) this.emit();
    return changed;
  }

  private mutate(fn: (d: ClustersFile) => void): void {
    this.load(false); // pick up changes another process made first
    const d = clone(this.data);
    fn(d);
    const r = validateClustersFile(d);
    if (!r.ok) throw new StoreError(r.problems.join('; '));
    if (this._problem && existsSync(this.file)) {
      const aside = `${this.file}.broken-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      renameSync(this.file, aside);
    }
    const text = serialize(r.value);
    atomicWrite(this.file, text);
    atomicWrite(this.backupFile, text);
    this.apply(r.value, text, null, false);
  }
}
