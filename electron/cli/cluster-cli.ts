// `npm run cluster -- <command> ...`: manage the clusters in the data dir's clusters.json. A running app (or
// `npm run serve`) picks every change up at once through the store's file watch; nothing restarts.
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline/promises';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { ClusterStore, StoreError } from '../clusters/store';
import { ConfigError, uniqueClusterId, type StoredCluster } from '../clusters/config-base';
import { clusterKinds } from '../clusters/kinds';
import type { ClusterKindDescriptor } from '../clusters/kinds/types';
import type { SettingsValues } from '../host-api/models';
import { createSecretStore, SECRET_LOCATION_TEXT, type SecretStore } from '../secrets/secret-store';
import type { Diagnosis } from '../clusters/diagnose';
import { defaultDataDir } from './data-dir';
import { addImportedGateway, importGatewaySettings } from '../clusters/import-config';
import { clusterUsage, kindFlagOptions } from './cluster-usage';
import { CULL_FLAG_NAMES, setCulling, setKernelUsername, type CullFlags } from './cluster-set';
import { runEnvCommand } from './cluster-env';
import { runSizeCommand } from './cluster-size';
import { gatewayKind } from '../clusters/kinds/gateway';
import { confirmHostKeysForAdd, diagnoseConfirmingKeys, type PromptIo } from './host-key-prompt';

export { CLUSTER_USAGE } from './cluster-usage';

export class UsageError extends Error {
  override name = 'UsageError';
}

interface Io extends PromptIo {
  env: NodeJS.ProcessEnv;
}

function secretFromEnv(io: Io, flag: string, name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const v = io.env[name];
  if (v === undefined || v.trim() === '') {
    throw new UsageError(`${flag} ${name}: the environment variable ${name} is not set (or empty)`);
  }
  return v.trim();
}

function readableFile(flag: string, f: string | undefined): string | undefined {
  if (f === undefined) return undefined;
  const abs = path.resolve(f);
  if (!existsSync(abs)) throw new UsageError(`${flag} ${f}: no such file`);
  try {
    accessSync(abs, constants.R_OK);
  } catch {
    throw new UsageError(`${flag} ${f}: the file cannot be read`);
  }
  return abs;
}

function seconds(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`${flag} must be a positive number of seconds, not "${v}"`);
  return n;
}

function parsePair(flag: string, arg: string, sep: string, p: string): [string, string] {
  const i = p.indexOf(sep);
  if (i <= 0) throw new UsageError(`--${flag} "${p}": write it as ${arg.replace(/"/g, '')}`);
  return [p.slice(0, i).trim(), sep === '=' ? p.slice(i + 1) : p.slice(i + 1).trim()];
}

type FlagValues = Record<string, string | boolean | string[] | undefined>;

/** The flags of `cluster add <kind>` -> the kind's settings values (the form's keys); secrets from env. */
function valuesFromFlags(kind: ClusterKindDescriptor, o: FlagValues, io: Io): SettingsValues {
  const values: SettingsValues = {};
  for (const f of kind.fields) {
    if (!f.cli) continue;
    const flag = `--${f.cli.flag}`;
    let v = o[f.cli.flag];
    if (v === undefined) continue;
    // A flag another kind repeats (ssh's --host) arrives as a list; this kind takes it once.
    if (Array.isArray(v) && f.type !== 'list' && f.type !== 'map') {
      if (v.length > 1) throw new UsageError(`${flag} is given ${v.length} times; ${kind.kind} takes one`);
      v = v[0];
    }
    if (f.type === 'boolean') values[f.key] = f.cli.invert ? v !== true : v === true;
    else if (f.type === 'secret') values[f.key] = secretFromEnv(io, flag, String(v));
    else if (f.type === 'seconds') values[f.key] = seconds(flag, String(v));
    else if (f.type === 'list')
      values[f.key] = (Array.isArray(v) ? v : [String(v)]).map((x) =>
        f.key.endsWith('Dirs') ? path.resolve(x) : x,
      );
    else if (f.type === 'map')
      values[f.key] = Object.fromEntries(
        (Array.isArray(v) ? v : [String(v)]).map((x) =>
          parsePair(f.cli!.flag, f.cli!.arg ?? 'K=V', f.cli!.separator ?? '=', x),
        ),
      );
    else if (f.type === 'path') values[f.key] = readableFile(flag, String(v));
    else values[f.key] = String(v);
  }
  return values;
}

export function describeCluster(
  c: StoredCluster,
  active: boolean,
  secrets: SecretStore,
): Record<string, unknown> {
  const base: Record<string, unknown> = {
    id: c.id,
    name: c.name,
    kind: c.kind,
    active,
    enabled: c.enabled !== false,
  };
  const kind = clusterKinds.get(c.kind);
  if (!kind) return base;
  if (!gatewayKind.is(c)) return { ...base, ...kind.values(c) };
  const token = c.auth.tokenSecret ? secrets.location(c.auth.tokenSecret) : undefined;
  return {
    ...base,
    url: c.url,
    token: token ? SECRET_LOCATION_TEXT[token] : 'none',
    authHeader: `${c.auth.headerName}: ${c.auth.scheme} …`,
    ...(c.basicAuth ? { httpUser: c.basicAuth.user } : {}),
    ...(c.kernelUsername ? { kernelUsername: c.kernelUsername } : {}),
    headers: Object.keys(c.headers),
    tls: c.tls,
    timeouts: c.timeouts,
    launchParams: c.launchParams,
    forwardEnv: c.forwardEnv,
  };
}

export function formatDiagnosis(d: Diagnosis): string {
  const mark = d.severity === 'ok' ? 'OK' : d.severity === 'warning' ? 'WARNING' : 'FAILED';
  return `${mark}: ${d.title}\n  ${d.detail}\n${d.hint ? `  What to do: ${d.hint}\n` : ''}  (${d.url}, ${d.elapsedMs} ms)\n`;
}

/** Run the CLI; returns the exit code. */
export async function runClusterCli(argv: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        'data-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        json: { type: 'boolean' },
        ...kindFlagOptions(),
        use: { type: 'boolean' },
        'accept-new-host-key': { type: 'boolean' },
        // `env add|edit` (cluster-env.ts); --host, --python, --launch-timeout, --port-range are the kinds' flags.
        'display-name': { type: 'string' },
        language: { type: 'string' },
        argv: { type: 'string' },
        env: { type: 'string', multiple: true },
        set: { type: 'string', multiple: true }, // `size add` (cluster-size.ts)
        // `set NAME --no-cull-connected / --no-cull-busy` (the positive flags are the kinds' fields).
        'no-cull-connected': { type: 'boolean' },
        'no-cull-busy': { type: 'boolean' },
      },
    });
  } catch (e) {
    io.err(
      `cluster: ${(e as Error).message}\nRun "npm run cluster -- --help" for the commands and options.\n`,
    );
    return 2;
  }
  const positionals = parsed.positionals;
  const o = parsed.values as FlagValues;
  if (o.help || positionals.length === 0) {
    (o.help ? io.out : io.err)(clusterUsage());
    return o.help ? 0 : 2;
  }
  const dataDir = path.resolve(typeof o['data-dir'] === 'string' ? o['data-dir'] : defaultDataDir(io.env));
  const [cmd, ...rest] = positionals;
  let store: ClusterStore | null = null;
  try {
    store = ClusterStore.open(dataDir);
    const secrets = createSecretStore({ dataDir });
    if (store.problem) io.err(`cluster: warning: ${store.problem.message}\n`);
    const need = (n: number, usage: string): string[] => {
      if (rest.length !== n) throw new UsageError(`usage: npm run cluster -- ${usage}`);
      return rest;
    };
    switch (cmd) {
      case 'add': {
        const kind = clusterKinds.get(rest[0] ?? '');
        if (!kind) {
          const kinds = clusterKinds.list().map((k) => `add ${k.kind} NAME`);
          throw new UsageError(`usage: npm run cluster -- ${kinds.join('  |  ')} (see --help)`);
        }
        const required = kind.fields.filter((f) => f.required && f.cli);
        const usage = `add ${kind.kind} NAME${required.map((f) => ` --${f.cli!.flag} ${f.cli!.arg ?? ''}`).join('')} [options]`;
        const [, name] = need(2, usage);
        for (const f of required)
          if (o[f.cli!.flag] === undefined)
            throw new UsageError(`add ${kind.kind} needs --${f.cli!.flag} ${f.cli!.arg ?? ''} (${f.help})`);
        if (o.insecure && o['ca-file']) throw new UsageError('--insecure and --ca-file do not go together');
        if (o['password-env'] && !o['http-user']) throw new UsageError('--password-env needs --http-user U');
        if (store.get(name))
          throw new StoreError(`a cluster named "${name}" already exists (remove it first)`);
        const id = uniqueClusterId(
          name,
          store.list().map((c) => c.id),
        );
        const values = valuesFromFlags(kind, o, io);
        // Secrets go to the secret store only once the config is known to be good.
        const pending: { key: string; value: string; label: string }[] = [];
        const r = clusterKinds.fromSettings(
          { kind: kind.kind, name, values },
          {
            id,
            prev: null,
            secret: (field, key, value) => {
              if (!value) return undefined;
              const label = kind.fields.find((f) => f.key === field)?.label.toLowerCase() ?? field;
              pending.push({ key, value, label });
              return key;
            },
          },
        );
        if (!r.ok) throw new ConfigError(r.check.problems.join('; '));
        // Host keys before anything is saved (with the secrets not stored yet, e.g. a key's passphrase).
        const pendingLookup = { get: (k: string) => pending.find((p) => p.key === k)?.value };
        const accept = o['accept-new-host-key'] === true;
        if (!(await confirmHostKeysForAdd(kind, r.config, pendingLookup, accept, io))) {
          io.err(`cluster: "${name}" was not added.\n`);
          return 1;
        }
        // Secrets first, then the config (a running app rebuilds the cluster when the config appears).
        const where = pending.map((p) => `${p.label} ${SECRET_LOCATION_TEXT[secrets.set(p.key, p.value)]}`);
        try {
          store.add(r.config);
        } catch (e) {
          secrets.deletePrefix(`cluster/${id}/`);
          throw e;
        }
        if (o.use) store.setActive(id);
        const url = kind.url(r.config);
        io.out(
          `Added ${kind.kind} cluster "${name}"${url ? ` (${url})` : ''}${o.use ? ', now active' : ''}.\n` +
            (kind.fields.some((f) => f.type === 'secret')
              ? where.length
                ? `  ${where.join('; ')} (${secrets.files.file}).\n`
                : '  No token set.\n'
              : '') +
            (o.insecure ? '  Warning: the server certificate will NOT be checked (--insecure).\n' : '') +
            (url
              ? `  Next: npm run cluster -- test "${name}"${o.use ? '' : `   then: npm run cluster -- use "${name}"`}\n`
              : ''),
        );
        return 0;
      }
      case 'list': {
        need(0, 'list [--json]');
        const active = store.activeId();
        const list = store.list().map((c) => describeCluster(c, c.id === active, secrets));
        if (o.json) {
          io.out(JSON.stringify({ dataDir, activeClusterId: active, clusters: list }, null, 2) + '\n');
          return 0;
        }
        for (const c of store.list()) {
          const mark = c.id === active ? '*' : ' ';
          const where = clusterKinds.get(c.kind)?.where(c) ?? c.kind;
          const off = c.enabled === false ? ' (disabled)' : '';
          io.out(`${mark} ${c.name.padEnd(24)} ${c.kind.padEnd(8)} ${where}${off}\n`);
        }
        io.out(`\n* = active: new kernels start there. Data dir: ${dataDir}\n`);
        return 0;
      }
      case 'use': {
        const [name] = need(1, 'use NAME');
        const c = store.setActive(name);
        io.out(
          `"${c.name}" is now the active cluster: new kernels start there. Running kernels keep running.\n`,
        );
        return 0;
      }
      case 'test': {
        const [name] = need(1, 'test NAME [--json]');
        const c = store.require(name);
        const d = await diagnoseConfirmingKeys(
          clusterKinds.of(c),
          c,
          secrets,
          o['accept-new-host-key'] === true,
          io,
        );
        if (o.json) io.out(JSON.stringify(d, null, 2) + '\n');
        else io.out(formatDiagnosis(d));
        return d.ok ? 0 : 1;
      }
      case 'import': {
        if (rest.length > 1) throw new UsageError('usage: npm run cluster -- import [NAME] [--use]');
        const imported = importGatewaySettings({ env: io.env });
        if (!imported) {
          throw new StoreError(
            'no gateway settings found: neither JUPYTER_GATEWAY_URL nor c.GatewayClient.url (in jupyter_server_config.py/.json of your Jupyter config dirs) is set',
          );
        }
        for (const w of imported.warnings) io.err(`cluster: warning: ${w}\n`);
        const cfg = addImportedGateway(store, secrets, imported, rest[0] ?? 'Gateway');
        if (o.use) store.setActive(cfg.id);
        io.out(
          `Imported gateway cluster "${cfg.name}" (${cfg.url})${o.use ? ', now active' : ''}.\n` +
            Object.entries(imported.sources)
              .map(([k, src]) => `  ${k}: from ${src}\n`)
              .join('') +
            `  Next: npm run cluster -- test "${cfg.name}"\n`,
        );
        return 0;
      }
      case 'set': {
        const [name] = need(1, 'set NAME --username U | --cull-idle-timeout S [...]');
        const cull = CULL_FLAG_NAMES.some((f) => o[f] !== undefined);
        if (o.username === undefined && !cull)
          throw new UsageError('set NAME needs --username U (or --username "") or --cull-idle-timeout S');
        if (o.username !== undefined) io.out(setKernelUsername(store, name, String(o.username)) + '\n');
        if (cull) io.out(setCulling(store, name, o as CullFlags) + '\n');
        return 0;
      }
      case 'env':
        return runEnvCommand(store, rest, o, {
          out: io.out,
          usage: (m) => new UsageError(m),
        });
      case 'size':
        return runSizeCommand(store, rest, o, { out: io.out, usage: (m) => new UsageError(m) });
      case 'remove': {
        const [name] = need(1, 'remove NAME');
        const c = store.remove(name);
        secrets.deletePrefix(`cluster/${c.id}/`);
        io.out(
          `Removed "${c.name}" and its stored secrets. Kernels still running there keep running until they are shut down.\n` +
            (store.activeId() !== c.id ? `Active cluster: "${store.active().name}".\n` : ''),
        );
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${cmd}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`cluster: ${e.message}\nRun "npm run cluster -- --help" for the commands and options.\n`);
      return 2;
    }
    if (e instanceof StoreError || e instanceof ConfigError) {
      io.err(`cluster: ${e.message}\n`);
      return 1;
    }
    io.err(`cluster: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    store?.close();
  }
}

const entry = process.argv[1] ? path.resolve(process.argv[1]) : '';
if (/cluster-cli\.ts$/.test(entry)) {
  runClusterCli(process.argv.slice(2), {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    env: process.env,
    isTTY: process.stdin.isTTY === true,
    ask: async (question) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    },
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`cluster: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
