// The `ssh` cluster kind: kernels on machines this computer can ssh to, started there by our launcher over an
// SSH connection the app opens (electron/clusters/ssh/, provisioners/ssh/). Nothing has to connect back.
import type { StoredCluster } from '../../config-base';
import { SshCluster } from '../../ssh/ssh-cluster';
import { diagnoseSsh } from '../../ssh/diagnose-ssh';
import { parseSshKept } from '../../ssh/ssh-kept';
import { trustSshHostKey, untrustedSshHostKey } from '../../ssh/host-keys';
import type { ClusterKindDescriptor } from '../types';
import { checkSsh, sshSchema, type SshClusterConfig } from './config';
import { checkSshEnvironments } from './environments';
import { SSH_FIELDS, sshConfigOf, sshValuesOf } from './fields';
import { sshEnvironmentsEditor } from './environments-editor';
import { launchParameter } from '../launch-parameters';
import { checkCulling, cullPolicyOf, cullingFieldOfPath } from '../culling';

export type { SshClusterConfig } from './config';

const PATH_FIELDS: Record<string, string> = {
  '/hosts': 'hosts',
  '/user': 'user',
  '/port': 'port',
  '/identityFile': 'identityFile',
  '/jump': 'jump',
  '/python': 'python',
  '/knownHostsFile': 'knownHostsFile',
  '/balancing': 'balancing',
  '/launchTimeoutSec': 'launchTimeoutSec',
  '/portRange': 'portRange',
};

export const sshKind: ClusterKindDescriptor<SshClusterConfig> = {
  kind: 'ssh',
  label: 'SSH hosts',
  summary: 'machines you can ssh to (kernels started there over SSH)',
  remote: true,
  addableFromForm: true,
  intro:
    'Kernels run on machines you can log in to with ssh: a lab server, a workstation, a login node. They need Python 3 with ipykernel; nothing has to connect back to this computer.',
  schema: sshSchema,
  fields: SSH_FIELDS,
  customSections: { launch: 'ssh-environments' },
  environments: sshEnvironmentsEditor,
  is: (cfg: StoredCluster): cfg is SshClusterConfig => cfg.kind === 'ssh',
  build: sshConfigOf,
  values: sshValuesOf,
  secretsSet: (c, secrets) => ({
    keyPassphrase: Boolean(c.passphraseSecret && secrets.get(c.passphraseSecret)),
    password: Boolean(c.passwordSecret && secrets.get(c.passwordSecret)),
  }),
  check: (c) => [...checkSsh(c), ...checkSshEnvironments(c), ...checkCulling(c.culling)],
  fieldOfPath: (path) => {
    // One environment's property: environments.<index>.<property>, as checkSshEnvironments names them.
    const env = /^\/environments\/(\d+)(?:\/([A-Za-z]+))?/.exec(path);
    if (env) return `environments.${env[1]}.${env[2] ?? 'name'}`;
    if (cullingFieldOfPath(path)) return cullingFieldOfPath(path);
    for (const [p, f] of Object.entries(PATH_FIELDS)) if (path === p || path.startsWith(`${p}/`)) return f;
    return 'hosts';
  },
  secretKeys: (c) => [c.passphraseSecret, c.passwordSecret].filter((k): k is string => typeof k === 'string'),
  where: (c) => `ssh ${c.user ? `${c.user}@` : ''}${c.hosts.join(', ')}`,
  url: () => null,
  launchSettings: () => ({}),
  culling: (c) => cullPolicyOf(c.culling),
  // KERNEL_* reach the kernel's env; the launcher reads KERNEL_REMOTE_HOST (one of the environment's hosts).
  launchParameters: (c, env) => {
    const hosts = c.environments?.find((e) => e.name === env.name)?.hosts ?? c.hosts;
    return [
      launchParameter('KERNEL_REMOTE_HOST', [env.env], {
        help: `Host to run this kernel on (default: the next by ${c.balancing ?? 'round-robin'})`,
        choices: hosts,
        validate: (v) =>
          hosts.includes(v) ? null : `must be one of this environment's hosts: ${hosts.join(', ')}`,
      }),
      launchParameter('KERNEL_LAUNCH_TIMEOUT', [env.env], {
        help: 'Seconds the start may take on the host',
        more: true,
      }),
    ];
  },
  createRuntime: (cfg, opts) => new SshCluster(cfg, { secrets: opts.secrets }),
  diagnose: (cfg, secrets) => diagnoseSsh(cfg, secrets),
  // No drop: a kernel that could not be re-attached may still hold work; reattachKernel says how to stop it.
  kept: { parse: parseSshKept },
  hostKeys: { check: untrustedSshHostKey, trust: trustSshHostKey },
};
