// `npm run cluster -- <command> ...`: manage the clusters in the data dir's clusters.json. A running app (or
// `npm run serve`) picks every change up at once through the store's file watch; nothing restarts.
import { parseArgs } from 'node:util';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { ClusterStore, StoreError } from '../clusters/store';
import {
  ConfigError,
  makeGatewayConfig,
  secretKeys,
  uniqueClusterId,
  type ClusterConfig,
  type LaunchParam,
} from '../clusters/config';
import { createSecretStore, SECRET_LOCATION_TEXT, type SecretStore } from '../secrets/secret-store';
import { diagnoseGateway, type Diagnosis } from '../clusters/diagnose';
import { defaultDataDir } from './data-dir';
import { addImportedGateway, importGatewaySettings } from '../clusters/import-config';
import { CLUSTER_USAGE } from './cluster-usage';
import { setKernelUsername } from './cluster-set';

export { CLUSTER_USAGE } from './cluster-usage';

export class UsageError extends Error {
  override name = 'UsageError';
}

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
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

function seconds(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`${flag} must be a positive number of seconds, not "${v}"`);
  return Math.round(n * 1000);
}

function parseHeader(h: string): [string, string] {
  const i = h.indexOf(':');
  if (i <= 0) throw new UsageError(`--header "${h}": write it as "Name: value"`);
  return [h.slice(0, i).trim(), h.slice(i + 1).trim()];
}

function parseLaunch(p: string): LaunchParam {
  const i = p.indexOf('=');
  if (i <= 0) throw new UsageError(`--launch "${p}": write it as KERNEL_NAME=value`);
  return { name: p.slice(0, i).trim(), value: p.slice(i + 1) };
}

export function describeCluster(
  c: ClusterConfig,
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
  if (c.kind === 'local') {
    if (c.kernelspecDirs) base.kernelspecDirs = c.kernelspecDirs;
    return base;
  }
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
        url: { type: 'string' },
        'token-env': { type: 'string' },
        'auth-header': { type: 'string' },
        'auth-scheme': { type: 'string' },
        'http-user': { type: 'string' },
        'password-env': { type: 'string' },
        username: { type: 'string' },
        header: { type: 'string', multiple: true },
        'ca-file': { type: 'string' },
        'client-cert': { type: 'string' },
        'client-key': { type: 'string' },
        'key-passphrase-env': { type: 'string' },
        insecure: { type: 'boolean' },
        launch: { type: 'string', multiple: true },
        'forward-env': { type: 'string', multiple: true },
        'connect-timeout': { type: 'string' },
        'request-timeout': { type: 'string' },
        'launch-timeout': { type: 'string' },
        'kernelspec-dir': { type: 'string', multiple: true },
        use: { type: 'boolean' },
      },
    });
  } catch (e) {
    io.err(
      `cluster: ${(e as Error).message}\nRun "npm run cluster -- --help" for the commands and options.\n`,
    );
    return 2;
  }
  const { values: o, positionals } = parsed;
  if (o.help || positionals.length === 0) {
    (o.help ? io.out : io.err)(CLUSTER_USAGE);
    return o.help ? 0 : 2;
  }
  const dataDir = path.resolve(o['data-dir'] ?? defaultDataDir(io.env));
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
        const kind = rest[0];
        if (kind === 'gateway') {
          const [, name] = need(2, 'add gateway NAME --url URL [options]');
          if (!o.url)
            throw new UsageError('add gateway needs --url URL (e.g. --url https://gateway.example.edu:8888)');
          if (o.insecure && o['ca-file']) throw new UsageError('--insecure and --ca-file do not go together');
          if (store.get(name))
            throw new StoreError(`a cluster named "${name}" already exists (remove it first)`);
          const id = uniqueClusterId(
            name,
            store.list().map((c) => c.id),
          );
          const token = secretFromEnv(io, '--token-env', o['token-env']);
          const password = secretFromEnv(io, '--password-env', o['password-env']);
          const passphrase = secretFromEnv(io, '--key-passphrase-env', o['key-passphrase-env']);
          if (password && !o['http-user']) throw new UsageError('--password-env needs --http-user U');
          const headers: Record<string, string> = {};
          for (const h of o.header ?? []) {
            const [k, v] = parseHeader(h);
            headers[k] = v;
          }
          const cfg = makeGatewayConfig({
            id,
            name,
            url: o.url,
            authHeaderName: o['auth-header'],
            authScheme: o['auth-scheme'],
            tokenSecret: token ? secretKeys.token(id) : undefined,
            httpUser: o['http-user'],
            passwordSecret: password ? secretKeys.password(id) : undefined,
            headers,
            validateCert: !o.insecure,
            caFile: readableFile('--ca-file', o['ca-file']),
            clientCertFile: readableFile('--client-cert', o['client-cert']),
            clientKeyFile: readableFile('--client-key', o['client-key']),
            keyPassphraseSecret: passphrase ? secretKeys.keyPassphrase(id) : undefined,
            kernelUsername: o.username,
            timeouts: {
              connectMs: seconds('--connect-timeout', o['connect-timeout']),
              requestMs: seconds('--request-timeout', o['request-timeout']),
              launchMs: seconds('--launch-timeout', o['launch-timeout']),
            },
            launchParams: (o.launch ?? []).map(parseLaunch),
            forwardEnv: o['forward-env'] ?? [],
          });
          // Secrets first, then the config (a running app rebuilds the cluster when the config appears).
          const where: string[] = [];
          if (token) where.push(`token ${SECRET_LOCATION_TEXT[secrets.set(secretKeys.token(id), token)]}`);
          if (password)
            where.push(`password ${SECRET_LOCATION_TEXT[secrets.set(secretKeys.password(id), password)]}`);
          if (passphrase) {
            where.push(
              `key passphrase ${SECRET_LOCATION_TEXT[secrets.set(secretKeys.keyPassphrase(id), passphrase)]}`,
            );
          }
          try {
            store.add(cfg);
          } catch (e) {
            secrets.deletePrefix(`cluster/${id}/`);
            throw e;
          }
          if (o.use) store.setActive(id);
          io.out(
            `Added gateway cluster "${name}" (${cfg.url})${o.use ? ', now active' : ''}.\n` +
              (where.length ? `  ${where.join('; ')} (${secrets.files.file}).\n` : '  No token set.\n') +
              (o.insecure ? '  Warning: the server certificate will NOT be checked (--insecure).\n' : '') +
              `  Next: npm run cluster -- test "${name}"${o.use ? '' : `   then: npm run cluster -- use "${name}"`}\n`,
          );
          return 0;
        }
        if (kind === 'local') {
          const [, name] = need(2, 'add local NAME [--kernelspec-dir D]...');
          const id = uniqueClusterId(
            name,
            store.list().map((c) => c.id),
          );
          const dirs = (o['kernelspec-dir'] ?? []).map((d) => path.resolve(d));
          store.add({
            id,
            name,
            kind: 'local',
            enabled: true,
            ...(dirs.length ? { kernelspecDirs: dirs } : {}),
          });
          if (o.use) store.setActive(id);
          io.out(`Added local cluster "${name}".\n`);
          return 0;
        }
        throw new UsageError(
          'usage: npm run cluster -- add gateway NAME --url URL [options]  |  add local NAME',
        );
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
          const where = c.kind === 'gateway' ? c.url : 'kernels on this computer';
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
        if (c.kind !== 'gateway') {
          io.out(`OK: "${c.name}" runs kernels on this computer; there is no connection to test.\n`);
          return 0;
        }
        const d = await diagnoseGateway(c, secrets);
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
        const [name] = need(1, 'set NAME --username U');
        if (o.username === undefined) throw new UsageError('set NAME needs --username U (or --username "")');
        io.out(setKernelUsername(store, name, o.username) + '\n');
        return 0;
      }
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
