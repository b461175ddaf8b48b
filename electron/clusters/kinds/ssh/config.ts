// The ssh kind's stored settings: the TypeScript type and the JSON schema ajv checks it with (bound by
// JSONSchemaType), the defaults, and the checks beyond the schema. Secrets (key passphrase, password) are
// never stored here: a config names them by key in the secret store.
import type { JSONSchemaType } from 'ajv';
import type { StoredCluster } from '../../config-base';
import type { FieldProblem } from '../types';
import { cullingSchema, type CullingConfig } from '../culling';

/** A kernel environment on an SSH cluster: one kernelspec the cluster lists. */
export interface SshEnvironment {
  /** Kernelspec name (lowercase, as Jupyter names them). */
  name: string;
  displayName: string;
  language: string;
  /** Remote Python that runs ipykernel (and our launcher); default the cluster's. */
  python?: string;
  /** Any kernel argv instead of `python -m ipykernel_launcher -f {connection_file}`. */
  argv?: string[];
  /** Hosts this environment may run on (default the cluster's). */
  hosts?: string[];
  /** Seconds a start may take (default the cluster's). */
  launchTimeoutSec?: number;
  /** Remote port range for the kernel's ports, `LO..HI` (default the cluster's). */
  portRange?: string;
  /** Extra environment for the kernel. */
  env?: Record<string, string>;
}

export type SshBalancing = 'round-robin' | 'least-connections';

export interface SshClusterConfig extends StoredCluster {
  kind: 'ssh';
  /** Host names, addresses or ~/.ssh/config aliases; kernels are spread over them. */
  hosts: string[];
  /** Login user (default: ~/.ssh/config's User, else the user name on this computer). */
  user?: string;
  /** sshd port (default: ~/.ssh/config's Port, else 22). */
  port?: number;
  /** Private key file (default: ~/.ssh/config's IdentityFile, else the agent, else ~/.ssh/id_*). */
  identityFile?: string;
  passphraseSecret?: string;
  passwordSecret?: string;
  /** Use the SSH agent (SSH_AUTH_SOCK) when it runs. Default true. */
  useAgent?: boolean;
  /** A login node in front: `user@host:port` (ProxyJump). */
  jump?: string;
  /** Remote Python with ipykernel; it gives the cluster its default environment. */
  python: string;
  /** known_hosts file to check host keys against (default ~/.ssh/known_hosts). */
  knownHostsFile?: string;
  balancing?: SshBalancing;
  /** Seconds a start may take (default 60). */
  launchTimeoutSec?: number;
  /** Remote port range for the kernel's ports, `LO..HI`. */
  portRange?: string;
  /** Environments besides the default one (the cluster's python). */
  environments?: SshEnvironment[];
  /** Idle culling of its kernels (off when absent). */
  culling?: CullingConfig;
}

export const DEFAULT_SSH_PYTHON = 'python3';
export const DEFAULT_SSH_LAUNCH_TIMEOUT_SEC = 60;

const strList = { type: 'array', items: { type: 'string', minLength: 1 } } as const;

const environmentSchema: JSONSchemaType<SshEnvironment> = {
  type: 'object',
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' },
    displayName: { type: 'string', minLength: 1, maxLength: 200 },
    language: { type: 'string', minLength: 1 },
    python: { type: 'string', minLength: 1, nullable: true },
    argv: { ...strList, minItems: 1, nullable: true },
    hosts: { ...strList, nullable: true },
    launchTimeoutSec: { type: 'number', exclusiveMinimum: 0, nullable: true },
    portRange: { type: 'string', nullable: true },
    env: { type: 'object', required: [], additionalProperties: { type: 'string' }, nullable: true },
  },
  required: ['name', 'displayName', 'language'],
  additionalProperties: false,
};

export const sshSchema: JSONSchemaType<SshClusterConfig> = {
  type: 'object',
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$' },
    name: { type: 'string', minLength: 1, maxLength: 100 },
    kind: { type: 'string', const: 'ssh' },
    enabled: { type: 'boolean', nullable: true },
    hosts: { ...strList, minItems: 1 },
    user: { type: 'string', minLength: 1, nullable: true },
    port: { type: 'integer', minimum: 1, maximum: 65535, nullable: true },
    identityFile: { type: 'string', minLength: 1, nullable: true },
    passphraseSecret: { type: 'string', minLength: 1, nullable: true },
    passwordSecret: { type: 'string', minLength: 1, nullable: true },
    useAgent: { type: 'boolean', nullable: true },
    jump: { type: 'string', minLength: 1, nullable: true },
    python: { type: 'string', minLength: 1 },
    knownHostsFile: { type: 'string', minLength: 1, nullable: true },
    balancing: { type: 'string', enum: ['round-robin', 'least-connections'], nullable: true },
    launchTimeoutSec: { type: 'number', exclusiveMinimum: 0, nullable: true },
    portRange: { type: 'string', nullable: true },
    environments: { type: 'array', items: environmentSchema, nullable: true },
    culling: { ...cullingSchema, nullable: true },
  },
  required: ['id', 'name', 'kind', 'hosts', 'python'],
  additionalProperties: false,
};

/** `LO..HI` -> the range, or null when it is not one (ports 1024..65535, at least 6 of them). */
export function parsePortRange(text: string): { lo: number; hi: number } | null {
  const m = /^\s*(\d{1,5})\s*\.\.\s*(\d{1,5})\s*$/.exec(text);
  if (!m) return null;
  const lo = Number(m[1]);
  const hi = Number(m[2]);
  if (lo < 1024 || hi > 65535 || hi - lo < 5) return null;
  return { lo, hi };
}

const HOST_RE = /^[A-Za-z0-9_.:[\]%-]+$/;
const JUMP_RE = /^(?:[A-Za-z0-9_.-]+@)?[A-Za-z0-9_.:[\]%-]+?(?::\d{1,5})?$/;

/** Checks beyond the schema, each naming the field a user fixes. */
export function checkSsh(c: SshClusterConfig): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const h of c.hosts)
    if (!HOST_RE.test(h))
      out.push({ field: 'hosts', message: `"${h}" is not a host name, address or ~/.ssh/config alias` });
  if (new Set(c.hosts.map((h) => h.toLowerCase())).size !== c.hosts.length)
    out.push({ field: 'hosts', message: 'a host is listed twice' });
  if (c.jump && !JUMP_RE.test(c.jump))
    out.push({ field: 'jump', message: `"${c.jump}" is not user@host[:port] (e.g. me@login.example.edu)` });
  if (c.portRange && !parsePortRange(c.portRange))
    out.push({
      field: 'portRange',
      message: `"${c.portRange}" is not a port range: write LO..HI, e.g. 40000..40100 (1024-65535, 6 ports or more)`,
    });
  if (/\s/.test(c.python.trim()) && !c.python.includes('/'))
    out.push({ field: 'python', message: 'give the path or name of one program, e.g. /usr/bin/python3' });
  // The environments' own checks: environments.ts (checkSshEnvironments).
  return out;
}

export const sshSecretKeys = {
  passphrase: (id: string) => `cluster/${id}/ssh-key-passphrase`,
  password: (id: string) => `cluster/${id}/ssh-password`,
};
