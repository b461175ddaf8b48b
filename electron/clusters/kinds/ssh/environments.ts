// An SSH cluster's kernel environments as settings: the form's and the CLI's records (an `items` field) <->
// the stored SshEnvironment list, and the checks that say what to fix in one of them. Problems name the field
// `environments.<index>.<property>`, so the form shows each at its input; the CLI prints the same words.
import type { SettingItem, SettingValue } from '../../../host-api/models';
import type { FieldProblem } from '../types';
import { parsePortRange, type SshClusterConfig, type SshEnvironment } from './config';

/** The environment every SSH cluster has (its Python); no other may take the name. */
export const DEFAULT_SSH_ENVIRONMENT = 'python3';
export const ENV_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const ENV_VAR_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** An argv our launcher runs: the kernel reads its ports from {connection_file}. */
export const isConnectionFileArgv = (argv: readonly string[]): boolean =>
  argv.some((a) => a.includes('{connection_file}'));
/** A Gateway Provisioners launcher argv: it calls back to {response_address} (their protocol v1). */
export const isGpLauncherArgv = (argv: readonly string[]): boolean =>
  argv.some((a) => a.includes('{response_address}'));

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v)
    ? v.filter((x): x is string => typeof x === 'string' && x.trim() !== '').map((x) => x.trim())
    : undefined;

/**
 * Form/CLI records -> stored environments. Nothing is refused here: a value of the wrong type is kept as it
 * came (e.g. a launch timeout typed as "soon"), so the schema and checkSshEnvironments name the very field.
 */
export function environmentsOf(v: SettingValue | undefined): SshEnvironment[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v
    .filter((x): x is SettingItem => typeof x === 'object' && x !== null && !Array.isArray(x))
    .map((item) => {
      const e: Record<string, unknown> = {
        name: typeof item.name === 'string' ? item.name.trim() : item.name,
        displayName: typeof item.displayName === 'string' ? item.displayName.trim() : item.displayName,
        language: text(item.language) ?? 'python',
      };
      const python = text(item.python);
      if (python) e.python = python;
      const argv = Array.isArray(item.argv) ? item.argv.filter((a) => a !== '') : undefined;
      if (argv?.length) e.argv = argv;
      const hosts = strings(item.hosts);
      if (hosts?.length) e.hosts = hosts;
      const t = item.launchTimeoutSec;
      if (typeof t === 'number') e.launchTimeoutSec = t;
      else if (typeof t === 'string' && t.trim())
        e.launchTimeoutSec = /^\d+(\.\d+)?$/.test(t.trim()) ? Number(t) : t.trim();
      const range = text(item.portRange);
      if (range) e.portRange = range;
      if (item.env && typeof item.env === 'object' && !Array.isArray(item.env)) {
        const env = Object.fromEntries(Object.entries(item.env).filter(([k]) => k.trim() !== ''));
        if (Object.keys(env).length) e.env = env;
      }
      // The schema and the checks judge the record as built (see above).
      return e as unknown as SshEnvironment;
    });
}

/** Stored environments -> the records the form edits. */
export function environmentItems(envs: readonly SshEnvironment[] | undefined): SettingItem[] {
  return (envs ?? []).map((e) => ({
    ...e,
    ...(e.argv ? { argv: [...e.argv] } : {}),
    ...(e.hosts ? { hosts: [...e.hosts] } : {}),
    ...(e.env ? { env: { ...e.env } } : {}),
  }));
}

/** The checks on a cluster's environments, each naming the environment and the property to fix. */
export function checkSshEnvironments(c: SshClusterConfig): FieldProblem[] {
  const out: FieldProblem[] = [];
  const envs: unknown = c.environments;
  if (envs === undefined) return out;
  if (!Array.isArray(envs)) return [{ field: 'environments', message: 'environments must be a list' }];
  const clusterHosts = new Set((Array.isArray(c.hosts) ? c.hosts : []).map((h) => String(h).toLowerCase()));
  const seen = new Set<string>([DEFAULT_SSH_ENVIRONMENT]);
  envs.forEach((raw: unknown, i) => {
    const at = (prop: string, message: string): void => {
      out.push({ field: `environments.${i}.${prop}`, message });
    };
    if (typeof raw !== 'object' || raw === null) return at('name', `environment ${i + 1} is not a record`);
    const e = raw as Record<string, unknown>;
    const label = typeof e.name === 'string' && e.name ? `environment "${e.name}"` : `environment ${i + 1}`;
    if (typeof e.name !== 'string' || !ENV_NAME_RE.test(e.name))
      at(
        'name',
        `${label}: the name is how Jupyter calls the kernel: lowercase letters, digits, ".", "_" or "-", starting with a letter or digit, at most 64 (e.g. torch-gpu)`,
      );
    else if (e.name === DEFAULT_SSH_ENVIRONMENT)
      at(
        'name',
        `${label}: "${DEFAULT_SSH_ENVIRONMENT}" is the cluster's own Python environment; pick another name`,
      );
    else if (seen.has(e.name)) at('name', `${label} is defined twice; give each environment its own name`);
    if (typeof e.name === 'string') seen.add(e.name);
    if (typeof e.displayName !== 'string' || !e.displayName.trim())
      at('displayName', `${label}: give it a display name (what the launcher and JupyterLab show)`);
    if (typeof e.language !== 'string' || !e.language.trim())
      at('language', `${label}: give the kernel's language, e.g. python`);
    if (e.python !== undefined && e.argv !== undefined)
      at('python', `${label}: give a remote Python or an argv, not both (an argv runs as it is)`);
    if (typeof e.python === 'string' && /\s/.test(e.python) && !e.python.includes('/'))
      at('python', `${label}: give the path or name of one program, e.g. /opt/conda/bin/python`);
    if (e.argv !== undefined) {
      const argv = Array.isArray(e.argv) ? e.argv.filter((a): a is string => typeof a === 'string') : [];
      if (!argv.length) at('argv', `${label}: the argv is empty; give the kernel's command line`);
      else if (!isConnectionFileArgv(argv) && !isGpLauncherArgv(argv))
        at(
          'argv',
          `${label}: the argv must contain {connection_file} (where the kernel reads its ports), e.g. /opt/r/bin/R --slave -e IRkernel::main() --args {connection_file}; or be a Gateway Provisioners launcher argv with {response_address}`,
        );
    }
    if (Array.isArray(e.hosts)) {
      const hosts = e.hosts.map(String);
      const stray = hosts.filter((h) => !clusterHosts.has(h.toLowerCase()));
      if (stray.length)
        at(
          'hosts',
          `${label}: ${stray.map((h) => `"${h}"`).join(', ')} ${stray.length > 1 ? 'are not hosts' : 'is not a host'} of this cluster (its hosts: ${[...c.hosts].join(', ')}); add ${stray.length > 1 ? 'them' : 'it'} to the cluster's hosts first`,
        );
      else if (new Set(hosts.map((h) => h.toLowerCase())).size !== hosts.length)
        at('hosts', `${label}: a host is listed twice`);
    }
    const t = e.launchTimeoutSec;
    if (t !== undefined && (typeof t !== 'number' || !Number.isFinite(t) || t <= 0))
      at(
        'launchTimeoutSec',
        `${label}: the launch timeout is a positive number of seconds, not "${String(t)}"`,
      );
    if (e.portRange !== undefined && (typeof e.portRange !== 'string' || !parsePortRange(e.portRange)))
      at(
        'portRange',
        `${label}: "${String(e.portRange)}" is not a port range: write LO..HI, e.g. 40000..40100 (1024-65535, 6 ports or more)`,
      );
    if (e.env && typeof e.env === 'object')
      for (const k of Object.keys(e.env))
        if (!ENV_VAR_RE.test(k))
          at(
            'env',
            `${label}: "${k}" is not an environment variable name (letters, digits, _; e.g. OMP_NUM_THREADS)`,
          );
  });
  return out;
}
