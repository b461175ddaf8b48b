// The ssh kind's settings fields (labels, help, defaults, secrets, CLI flags) and the two conversions between
// their values and the stored config. `npm run cluster -- add ssh NAME --host H [--host H2] [--user U]
// [--port N] [--identity FILE] [--python PATH] [--jump USER@HOST[:PORT]]` comes from the cli entries here.
import type { KindFieldInfo, SettingsValues } from '../../../host-api/models';
import { FieldError, type BuildContext } from '../types';
import { DEFAULT_SSH_PYTHON, sshSecretKeys, type SshBalancing, type SshClusterConfig } from './config';
import { environmentItems, environmentsOf } from './environments';
import { CULL_FIELDS, cullingOf, cullingValues } from '../culling';

export const SSH_FIELDS: readonly KindFieldInfo[] = [
  {
    key: 'hosts',
    label: 'Hosts',
    help: 'a host name, address or ~/.ssh/config alias to run kernels on (repeat for several)',
    type: 'list',
    required: true,
    section: 'connection',
    form: {
      id: 'cf-ssh-hosts',
      help: 'One per line: names, addresses or aliases from ~/.ssh/config. Kernels are spread over them.',
      placeholder: 'bigbox.lab.example.edu',
    },
    cli: { flag: 'host', arg: 'H' },
  },
  {
    key: 'user',
    label: 'User',
    help: 'login user (default: ~/.ssh/config, else your user name here)',
    type: 'text',
    section: 'connection',
    form: { id: 'cf-ssh-user' },
    cli: { flag: 'user', arg: 'U' },
  },
  {
    key: 'port',
    label: 'Port',
    help: 'sshd port (default: ~/.ssh/config, else 22)',
    type: 'text',
    section: 'connection',
    form: { id: 'cf-ssh-port', placeholder: '22' },
    cli: { flag: 'port', arg: 'N' },
  },
  {
    key: 'identityFile',
    label: 'Private key file',
    help: 'private key to log in with (default: the SSH agent, ~/.ssh/config, ~/.ssh/id_*)',
    type: 'path',
    section: 'connection',
    form: { id: 'cf-ssh-identity' },
    cli: { flag: 'identity', arg: 'FILE' },
  },
  {
    key: 'keyPassphrase',
    label: 'Key passphrase',
    help: "the private key's passphrase, read from environment variable VAR and stored as a secret",
    type: 'secret',
    section: 'connection',
    form: { id: 'cf-ssh-passphrase', help: 'Kept out of the settings file.' },
    cli: { flag: 'passphrase-env', arg: 'VAR', fromEnv: true },
  },
  {
    key: 'password',
    label: 'Password',
    help: 'login password, read from environment variable VAR and stored as a secret (keys are better)',
    type: 'secret',
    section: 'connection',
    form: { id: 'cf-ssh-password', help: 'Only when the host takes no key. Kept out of the settings file.' },
    cli: { flag: 'password-env', arg: 'VAR', fromEnv: true },
  },
  {
    key: 'python',
    label: 'Remote Python',
    help: 'Python on the hosts that has ipykernel (gives the cluster its first kernel environment)',
    type: 'text',
    default: DEFAULT_SSH_PYTHON,
    section: 'connection',
    form: { id: 'cf-ssh-python', placeholder: '/usr/bin/python3' },
    cli: { flag: 'python', arg: 'PATH' },
  },
  {
    key: 'jump',
    label: 'Jump host',
    help: 'login node in front of the hosts (ProxyJump), as USER@HOST[:PORT]',
    type: 'text',
    section: 'advanced',
    form: { id: 'cf-ssh-jump', placeholder: 'me@login.example.edu' },
    cli: { flag: 'jump', arg: 'USER@HOST[:PORT]' },
  },
  {
    key: 'useAgent',
    label: 'Use the SSH agent',
    help: 'do not use the SSH agent (SSH_AUTH_SOCK)',
    type: 'boolean',
    default: true,
    section: 'advanced',
    form: { id: 'cf-ssh-agent', help: 'Keys loaded in ssh-agent are tried first.' },
    cli: { flag: 'no-agent', invert: true },
  },
  {
    key: 'knownHostsFile',
    label: 'known_hosts file',
    help: 'host keys are checked against this file (default ~/.ssh/known_hosts)',
    type: 'text',
    section: 'advanced',
    form: { id: 'cf-ssh-known-hosts', placeholder: '~/.ssh/known_hosts' },
    cli: { flag: 'known-hosts', arg: 'FILE' },
  },
  {
    key: 'balancing',
    label: 'Spread kernels',
    help: 'how kernels are spread over several hosts: round-robin or least-connections',
    type: 'text',
    default: 'round-robin',
    section: 'advanced',
    suggestions: [
      { value: 'round-robin', hint: 'each start on the next host' },
      { value: 'least-connections', hint: 'on the host with the fewest kernels' },
    ],
    form: { id: 'cf-ssh-balancing' },
    cli: { flag: 'balancing', arg: 'round-robin|least-connections' },
  },
  {
    key: 'portRange',
    label: 'Remote port range',
    help: "ports the kernel may use on the host, LO..HI (when the host's firewall wants a range)",
    type: 'text',
    section: 'advanced',
    form: { id: 'cf-ssh-ports', placeholder: '40000..40100' },
    cli: { flag: 'port-range', arg: 'LO..HI' },
  },
  {
    key: 'launchTimeoutSec',
    label: 'Launch timeout',
    help: 'seconds a kernel start may take',
    type: 'seconds',
    default: 60,
    section: 'advanced',
    form: { id: 'cf-ssh-timeout' },
    cli: { flag: 'launch-timeout', arg: 'S' },
  },
  {
    // Edited by the kind's form section (customSections.launch) and `npm run cluster -- env ...`.
    key: 'environments',
    label: 'Kernel environments',
    help: 'kernel environments besides the cluster Python: name, display name, language, remote Python or argv, hosts, launch timeout, port range, variables',
    type: 'items',
    default: [],
    section: 'launch',
    form: { id: 'cf-ssh-envs' },
  },
  ...CULL_FIELDS,
];

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
const secretValue = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function port(v: unknown): number | undefined {
  if (v === undefined || v === '' || v === null) return undefined;
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new FieldError(
      'port',
      `"${String(v)}" is not a port: give a number from 1 to 65535 (sshd's is 22)`,
    );
  return n;
}

function balancing(v: unknown): SshBalancing | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  if (s === 'round-robin' || s === 'least-connections') return s;
  throw new FieldError('balancing', `"${s}": choose round-robin or least-connections`);
}

/** Field values -> stored config (validated by the registry afterwards). */
export function sshConfigOf(values: SettingsValues, ctx: BuildContext): SshClusterConfig {
  const prev = ctx.prev as SshClusterConfig | null;
  const hosts = (Array.isArray(values.hosts) ? values.hosts : [])
    .filter((h): h is string => typeof h === 'string')
    .map((h) => h.trim())
    .filter((h) => h.length > 0);
  const cfg: SshClusterConfig = {
    id: ctx.id,
    name: ctx.name,
    kind: 'ssh',
    enabled: prev?.enabled ?? true,
    hosts,
    python: str(values.python) ?? DEFAULT_SSH_PYTHON,
  };
  const user = str(values.user);
  if (user) cfg.user = user;
  const p = port(values.port);
  if (p !== undefined) cfg.port = p;
  const identity = str(values.identityFile);
  if (identity) cfg.identityFile = identity;
  const passphrase = ctx.secret(
    'keyPassphrase',
    sshSecretKeys.passphrase(ctx.id),
    secretValue(values.keyPassphrase),
    prev?.passphraseSecret,
  );
  if (passphrase) cfg.passphraseSecret = passphrase;
  const password = ctx.secret(
    'password',
    sshSecretKeys.password(ctx.id),
    secretValue(values.password),
    prev?.passwordSecret,
  );
  if (password) cfg.passwordSecret = password;
  if (values.useAgent === false) cfg.useAgent = false;
  const jump = str(values.jump);
  if (jump) cfg.jump = jump;
  const kh = str(values.knownHostsFile);
  if (kh) cfg.knownHostsFile = kh;
  const b = balancing(values.balancing);
  if (b && b !== 'round-robin') cfg.balancing = b;
  const range = str(values.portRange);
  if (range) cfg.portRange = range;
  const t = values.launchTimeoutSec;
  if (t !== undefined) {
    if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0)
      throw new FieldError('launchTimeoutSec', 'enter a positive number of seconds');
    cfg.launchTimeoutSec = t;
  }
  // Input without the field (an older form, `cluster add`) keeps the saved environments; a list replaces them.
  const envs = environmentsOf(values.environments) ?? prev?.environments?.map((e) => ({ ...e }));
  if (envs?.length) cfg.environments = envs;
  const culling = cullingOf(values);
  if (culling) cfg.culling = culling;
  return cfg;
}

/** Stored config -> field values (secrets left out). */
export function sshValuesOf(c: SshClusterConfig): SettingsValues {
  return {
    hosts: [...c.hosts],
    user: c.user ?? '',
    port: c.port !== undefined ? String(c.port) : '',
    identityFile: c.identityFile ?? '',
    python: c.python,
    jump: c.jump ?? '',
    useAgent: c.useAgent !== false,
    knownHostsFile: c.knownHostsFile ?? '',
    balancing: c.balancing ?? 'round-robin',
    portRange: c.portRange ?? '',
    launchTimeoutSec: c.launchTimeoutSec ?? 60,
    environments: environmentItems(c.environments),
    ...cullingValues(c.culling),
  };
}
