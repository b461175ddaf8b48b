// What the CLI's `env list` and `env import` need from the ssh kind: its environments in words, and a Gateway
// Provisioners SSH kernelspec (`jupyter ssh-spec install`: provisioner_name "distributed-provisioner", hosts in
// metadata.kernel_provisioner.config.remote_hosts) read into an environment record.
import type { SettingItem } from '../../../host-api/models';
import type { KernelSpecImport, KindEnvironments } from '../types';
import { DEFAULT_SSH_LAUNCH_TIMEOUT_SEC, type SshClusterConfig, type SshEnvironment } from './config';
import { DEFAULT_SSH_ENVIRONMENT, ENV_NAME_RE, isGpLauncherArgv } from './environments';

const GP_SSH_PROVISIONER = 'distributed-provisioner';
// Config keys of GP's distributed provisioner that have no counterpart here, and why.
const NOT_USED: Record<string, string> = {
  authorized_users: 'this app starts kernels as your SSH login; there is no user list to check',
  unauthorized_users: 'this app starts kernels as your SSH login; there is no user list to check',
  load_balancing_algorithm: "the cluster's own setting (Spread kernels) applies",
};

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function line(e: SshEnvironment, cfg: SshClusterConfig): string {
  const runs = e.argv
    ? `argv ${e.argv.join(' ')}${isGpLauncherArgv(e.argv) ? ' (Gateway Provisioners launcher)' : ''}`
    : `python ${e.python ?? `${cfg.python} (the cluster's)`}`;
  const parts = [
    `${e.displayName} (${e.language})`,
    runs,
    `hosts: ${e.hosts?.join(', ') ?? 'all'}`,
    `launch timeout ${e.launchTimeoutSec ?? cfg.launchTimeoutSec ?? DEFAULT_SSH_LAUNCH_TIMEOUT_SEC} s`,
  ];
  if (e.portRange) parts.push(`ports ${e.portRange}`);
  if (e.env) parts.push(`env ${Object.keys(e.env).join(', ')}`);
  return parts.join('; ');
}

/** A kernelspec directory name -> an environment name (lowercase; other characters become "-"). */
export function environmentNameOf(dirName: string): string {
  return dirName
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 64);
}

/** A parsed GP kernel.json -> an environment record of an SSH cluster, with what was used and what was not. */
export function fromGpKernelSpec(
  spec: unknown,
  opts: { dirName: string; name?: string; cfg: SshClusterConfig },
): KernelSpecImport {
  if (!isRecord(spec)) throw new Error('a kernel.json holds one JSON object');
  const argv = spec.argv;
  if (!Array.isArray(argv) || !argv.length || !argv.every((a) => typeof a === 'string'))
    throw new Error('its "argv" is not a list of strings');
  const meta = isRecord(spec.metadata) ? spec.metadata : {};
  const kp = isRecord(meta.kernel_provisioner) ? meta.kernel_provisioner : {};
  const provisioner = typeof kp.provisioner_name === 'string' ? kp.provisioner_name : undefined;
  const config = isRecord(kp.config) ? kp.config : {};
  const remote = Array.isArray(config.remote_hosts)
    ? config.remote_hosts.filter((h): h is string => typeof h === 'string' && h.trim() !== '')
    : undefined;
  if (provisioner && provisioner !== GP_SSH_PROVISIONER)
    throw new Error(
      `it names the provisioner "${provisioner}", which does not run kernels over SSH; only Gateway Provisioners SSH kernelspecs (provisioner "${GP_SSH_PROVISIONER}", from jupyter ssh-spec install) are imported`,
    );
  if (!provisioner && !remote)
    throw new Error(
      'it is not a Gateway Provisioners SSH kernelspec (no "distributed-provisioner" and no metadata.kernel_provisioner.config.remote_hosts); add it with env add --python or --argv',
    );
  const imported: string[] = [];
  const ignored: string[] = [];
  const name = opts.name ?? environmentNameOf(opts.dirName);
  const displayName =
    typeof spec.display_name === 'string' && spec.display_name.trim() ? spec.display_name.trim() : name;
  const language =
    typeof spec.language === 'string' && spec.language.trim() ? spec.language.trim() : 'python';
  const item: SettingItem = { name, displayName, language, argv: [...(argv as string[])] };
  imported.push(`name ${name}`, `display name "${displayName}"`, `language ${language}`);
  imported.push(
    isGpLauncherArgv(argv as string[])
      ? `argv as it is (a Gateway Provisioners launcher, run by ${GP_SSH_PROVISIONER}; the files it names must exist at the same paths on the hosts): ${argv.join(' ')}`
      : `argv as it is: ${argv.join(' ')}`,
  );
  const own = new Map(opts.cfg.hosts.map((h) => [h.toLowerCase(), h]));
  const hosts = (remote ?? []).map((h) => own.get(h.toLowerCase())).filter((h): h is string => !!h);
  const stray = (remote ?? []).filter((h) => !own.has(h.toLowerCase()));
  if (hosts.length) {
    item.hosts = hosts;
    imported.push(`hosts ${hosts.join(', ')}`);
  } else imported.push(`hosts: all of the cluster's (${opts.cfg.hosts.join(', ')})`);
  if (stray.length)
    ignored.push(
      `remote_hosts ${stray.join(', ')}: not hosts of this cluster (add them to the cluster first, then import again)`,
    );
  if (typeof config.launch_timeout === 'number' && config.launch_timeout > 0) {
    item.launchTimeoutSec = config.launch_timeout;
    imported.push(`launch timeout ${config.launch_timeout} s`);
  }
  if (typeof config.port_range === 'string' && !/^\s*0\s*\.\.\s*0\s*$/.test(config.port_range)) {
    item.portRange = config.port_range;
    imported.push(`port range ${config.port_range}`);
  }
  for (const k of Object.keys(config))
    if (!['remote_hosts', 'launch_timeout', 'port_range'].includes(k))
      ignored.push(`config.${k}: ${NOT_USED[k] ?? 'not a setting of SSH environments here'}`);
  if (isRecord(spec.env)) {
    const env = Object.fromEntries(
      Object.entries(spec.env).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
    const skipped = Object.keys(spec.env).filter((k) => !(k in env));
    if (Object.keys(env).length) {
      item.env = env;
      imported.push(`env ${Object.keys(env).join(', ')}`);
    }
    if (skipped.length) ignored.push(`env ${skipped.join(', ')}: values that are not strings`);
  }
  if (spec.interrupt_mode !== undefined && spec.interrupt_mode !== 'signal')
    ignored.push(`interrupt_mode "${String(spec.interrupt_mode)}": interrupts go to the launcher as signals`);
  for (const k of Object.keys(meta))
    if (k !== 'kernel_provisioner') ignored.push(`metadata.${k}: not used for SSH environments`);
  if (!ENV_NAME_RE.test(name) || name === DEFAULT_SSH_ENVIRONMENT)
    ignored.push(`the name "${name}" will be refused: give another NAME`);
  return { item, imported, ignored };
}

export const sshEnvironmentsEditor: KindEnvironments<SshClusterConfig> = {
  field: 'environments',
  describe: (cfg) => [
    {
      name: DEFAULT_SSH_ENVIRONMENT,
      detail: line(
        {
          name: DEFAULT_SSH_ENVIRONMENT,
          displayName: `Python 3 on ${cfg.name}`,
          language: 'python',
          python: cfg.python,
          ...(cfg.portRange ? { portRange: cfg.portRange } : {}),
        },
        cfg,
      ),
      builtIn: true,
    },
    ...(cfg.environments ?? []).map((e) => ({ name: e.name, detail: line(e, cfg), builtIn: false })),
  ],
  fromKernelSpec: fromGpKernelSpec,
};
