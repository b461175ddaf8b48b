// `npm run cluster -- env list|add|edit|remove|import CLUSTER ...`: a cluster's kernel environments, for kinds
// that keep them in their settings (the descriptor's `environments`). A change goes through the same build and
// validator as the form's Save (host API editCluster), so the CLI refuses exactly what the form refuses.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, type StoredCluster } from '../clusters/config-base';
import { clusterKinds } from '../clusters/kinds';
import type { ClusterKindDescriptor, KindEnvironments } from '../clusters/kinds/types';
import { StoreError, type ClusterStore } from '../clusters/store';
import type { SettingItem, SettingsValues } from '../host-api/models';

export const ENV_USAGE = `  env list CLUSTER [--json]              the kernel environments CLUSTER lists (an SSH cluster's Python first)
  env add CLUSTER NAME [--display-name D] [--language L] [--python P | --argv "CMD ... {connection_file}"]
      [--host H]... [--launch-timeout S] [--port-range LO..HI] [--env K=V]...
                                         add a kernel environment (default: display name NAME, language python,
                                         the cluster's Python and hosts, launch timeout and port range)
  env edit CLUSTER NAME [same options]   change the options given; --python replaces an argv and the reverse
  env remove CLUSTER NAME                remove a kernel environment
  env import CLUSTER PATH [NAME]         read a Gateway Provisioners kernelspec (kernel.json or its directory) into
                                         an environment (NAME: default the directory's name): for an SSH cluster
                                         from jupyter ssh-spec (distributed-provisioner, config.remote_hosts), for
                                         a Docker or Swarm cluster from jupyter docker-spec (docker-provisioner or
                                         docker-swarm-provisioner, config.image_name); prints what was used`;

export type EnvFlags = Record<string, string | boolean | string[] | undefined>;

export interface EnvIo {
  out: (s: string) => void;
  usage: (message: string) => Error;
}

/** A command line -> argv words: spaces separate, '...' and "..." quote, \ escapes outside single quotes. */
export function splitArgv(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) throw new Error(`--argv: a ${quote} quote is not closed`);
  if (inWord) out.push(cur);
  return out;
}

const list = (v: EnvFlags[string]): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [String(v)]);

/** The flags given -> changes to an environment record (only what was given). */
function changesOf(o: EnvFlags, io: EnvIo): SettingItem {
  const c: SettingItem = {};
  if (typeof o['display-name'] === 'string') c.displayName = o['display-name'];
  if (typeof o.language === 'string') c.language = o.language;
  if (typeof o.python === 'string') c.python = o.python;
  if (typeof o.argv === 'string') {
    try {
      c.argv = splitArgv(o.argv);
    } catch (e) {
      throw io.usage((e as Error).message);
    }
  }
  if (o.host !== undefined) c.hosts = list(o.host);
  // Passed as typed: the validator says what is wrong with it, in the form's words.
  if (typeof o['launch-timeout'] === 'string') c.launchTimeoutSec = o['launch-timeout'];
  if (typeof o['port-range'] === 'string') c.portRange = o['port-range'];
  if (o.env !== undefined) {
    const env: Record<string, string> = {};
    for (const p of list(o.env)) {
      const i = p.indexOf('=');
      if (i <= 0) throw io.usage(`--env "${p}": write it as NAME=VALUE`);
      env[p.slice(0, i).trim()] = p.slice(i + 1);
    }
    c.env = env;
  }
  return c;
}

interface Target {
  c: StoredCluster;
  kind: ClusterKindDescriptor;
  envs: KindEnvironments;
  items: SettingItem[];
}

function target(store: ClusterStore, name: string): Target {
  const c = store.require(name);
  const kind = clusterKinds.of(c);
  const envs = kind.environments;
  if (!envs)
    throw new StoreError(
      `"${c.name}" is a ${kind.label.toLowerCase()} cluster: its kernel environments are not settings here (they are the kernelspecs it lists)`,
    );
  const v = kind.values(c)[envs.field];
  const items = Array.isArray(v)
    ? v.filter((x): x is SettingItem => typeof x === 'object' && x !== null && !Array.isArray(x))
    : [];
  return { c, kind, envs, items };
}

/** Save the cluster with new environment records, through the form's build and the one validator. */
function save(store: ClusterStore, t: Target, items: SettingItem[]): void {
  const values: SettingsValues = { ...t.kind.values(t.c), [t.envs.field]: items };
  for (const f of t.kind.fields) if (f.type === 'secret') delete values[f.key];
  const r = clusterKinds.fromSettings(
    { kind: t.kind.kind, name: t.c.name, values },
    { id: t.c.id, prev: t.c, secret: (_f, _k, _v, had) => had },
  );
  if (!r.ok) throw new ConfigError(`nothing was saved:\n  ${r.check.problems.join('\n  ')}`);
  store.update(r.config);
}

function readKernelSpec(p: string): { json: unknown; dirName: string; file: string } {
  const abs = path.resolve(p);
  if (!existsSync(abs)) throw new StoreError(`${p}: no such file or directory`);
  const file = statSync(abs).isDirectory() ? path.join(abs, 'kernel.json') : abs;
  if (!existsSync(file)) throw new StoreError(`${p}: the directory has no kernel.json`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new StoreError(`${file}: not JSON (${(e as Error).message})`);
  }
  return { json, dirName: path.basename(path.dirname(file)), file };
}

/** `env ...`; returns the exit code. */
export function runEnvCommand(store: ClusterStore, args: string[], o: EnvFlags, io: EnvIo): number {
  const [sub, cluster, ...rest] = args;
  const need = (n: number, usage: string): void => {
    if (!cluster || rest.length !== n) throw io.usage(`usage: npm run cluster -- ${usage}`);
  };
  switch (sub) {
    case 'list': {
      need(0, 'env list CLUSTER [--json]');
      const t = target(store, cluster!);
      const rows = t.envs.describe(t.c);
      if (o.json)
        io.out(JSON.stringify({ cluster: t.c.name, environments: t.items, listed: rows }, null, 2) + '\n');
      else
        for (const r of rows)
          io.out(`  ${r.name.padEnd(20)} ${r.detail}${r.builtIn ? '  [built in]' : ''}\n`);
      return 0;
    }
    case 'add':
    case 'edit': {
      need(1, `env ${sub} CLUSTER NAME [options] (see --help)`);
      const t = target(store, cluster!);
      const name = rest[0]!;
      const i = t.items.findIndex((x) => x.name === name);
      const changes = changesOf(o, io);
      if (sub === 'add') {
        if (i >= 0) throw new StoreError(`"${t.c.name}" has an environment "${name}" already: use env edit`);
        save(store, t, [...t.items, { name, displayName: name, language: 'python', ...changes }]);
      } else {
        if (i < 0) throw new StoreError(`"${t.c.name}" has no environment "${name}" (env list shows them)`);
        const next: SettingItem = { ...t.items[i], ...changes };
        if (changes.python !== undefined) delete next.argv;
        if (changes.argv !== undefined) delete next.python;
        save(
          store,
          t,
          t.items.map((x, j) => (j === i ? next : x)),
        );
      }
      io.out(`${sub === 'add' ? 'Added' : 'Changed'} environment "${name}" of "${t.c.name}".\n`);
      return 0;
    }
    case 'remove': {
      need(1, 'env remove CLUSTER NAME');
      const t = target(store, cluster!);
      const name = rest[0]!;
      if (!t.items.some((x) => x.name === name))
        throw new StoreError(
          t.envs.describe(t.c).some((r) => r.name === name && r.builtIn)
            ? `"${name}" is built into "${t.c.name}" (its own Python); it cannot be removed`
            : `"${t.c.name}" has no environment "${name}" (env list shows them)`,
        );
      save(
        store,
        t,
        t.items.filter((x) => x.name !== name),
      );
      io.out(`Removed environment "${name}" of "${t.c.name}". Kernels running in it keep running.\n`);
      return 0;
    }
    case 'import': {
      if (!cluster || rest.length < 1 || rest.length > 2)
        throw io.usage('usage: npm run cluster -- env import CLUSTER PATH/TO/kernel.json-or-dir [NAME]');
      const t = target(store, cluster);
      const spec = readKernelSpec(rest[0]!);
      let r;
      try {
        r = t.envs.fromKernelSpec(spec.json, { dirName: spec.dirName, name: rest[1], cfg: t.c });
      } catch (e) {
        throw new StoreError(`${spec.file}: ${(e as Error).message}`);
      }
      const name = String(r.item.name);
      if (t.items.some((x) => x.name === name))
        throw new StoreError(
          `"${t.c.name}" has an environment "${name}" already: remove it first or give another NAME`,
        );
      save(store, t, [...t.items, r.item]);
      io.out(
        `Imported ${spec.file} as environment "${name}" of "${t.c.name}".\n` +
          `  Used:\n${r.imported.map((s) => `    ${s}\n`).join('')}` +
          (r.ignored.length
            ? `  Ignored:\n${r.ignored.map((s) => `    ${s}\n`).join('')}`
            : '  Ignored: nothing\n'),
      );
      return 0;
    }
    default:
      throw io.usage(`usage: npm run cluster -- env list|add|edit|remove|import CLUSTER ... (see --help)`);
  }
}
