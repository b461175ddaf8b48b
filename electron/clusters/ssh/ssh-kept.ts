// What an SSH kernel left running (or listed in the crash journal) saves: the SshProvisioner's state, i.e.
// what its loadProvisionerInfo needs to open a new tunnel to the kernel's ports on the host. It holds the HMAC
// key, so it lives only in the main process and the 0600 state file (electron/kernels/left-running.ts).
import { shellQuote, stopCommandArgs } from '../../../provisioners/remote/launcher-protocol';
import { SSH_PROVISIONER_NAME } from '../../../provisioners/ssh/ssh-provisioner';
import type { ConnectionInfo, JsonValue, ProvisionerState } from '../../../provisioners/types';
import type { KeptKernelDetails } from '../../kernels/left-running';
import type { KeptDetails } from '../kinds/types';

export interface SshKept extends KeptKernelDetails {
  kind: 'ssh';
  /** The host as the cluster's settings name it (an alias resolves through ~/.ssh/config again). */
  host: string;
  /** The kernel's own ports on the host (not this app's tunnel ports) and its HMAC key. */
  connection: ConnectionInfo;
  /** The launcher's comm port on the host (signals, status, lease, shutdown). */
  commPort: number;
  pid: number;
  pgid: number;
  /** The kernel's log file on the host. */
  log: string;
  /** The launcher on the host (relative to the login's home), for its `stop`/`status` commands. */
  launcherFile: string | null;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isPort = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 65536;
const isPid = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

const ZMQ_PORTS = ['shell_port', 'iopub_port', 'stdin_port', 'control_port', 'hb_port'] as const;

function parseConnection(v: unknown): ConnectionInfo | null {
  if (!isObj(v) || v.transport !== 'tcp') return null;
  if (!isStr(v.ip) || !isStr(v.key) || !isStr(v.signature_scheme)) return null;
  if (!ZMQ_PORTS.every((p) => isPort(v[p]))) return null;
  const c: ConnectionInfo = {
    transport: 'tcp',
    ip: v.ip,
    key: v.key,
    signature_scheme: v.signature_scheme,
    shell_port: 0,
    iopub_port: 0,
    stdin_port: 0,
    control_port: 0,
    hb_port: 0,
  };
  for (const p of ZMQ_PORTS) c[p] = v[p] as number;
  return c;
}

/** The ssh kind's kept.parse: null for anything loadProvisionerInfo could not use (the record is dropped). */
export function parseSshKept(v: KeptDetails): SshKept | null {
  const connection = parseConnection(v.connection);
  if (v.kind !== 'ssh' || !connection || !isStr(v.host) || !isPort(v.commPort) || !isPid(v.pid)) return null;
  return {
    kind: 'ssh',
    host: v.host,
    connection,
    commPort: v.commPort,
    pid: v.pid,
    pgid: isPid(v.pgid) ? v.pgid : v.pid,
    log: typeof v.log === 'string' ? v.log : '',
    launcherFile: isStr(v.launcherFile) ? v.launcherFile : null,
  };
}

/** SshProvisioner.getProvisionerInfo() -> what is saved; null when it is not an SSH kernel's state. */
export function sshKeptOf(state: ProvisionerState): SshKept | null {
  return parseSshKept({ kind: 'ssh', ...state.details, connection: { ...state.connection } });
}

/** What is saved -> the state SshProvisioner.loadProvisionerInfo takes. */
export function sshStateOf(kernelId: string, k: SshKept): ProvisionerState {
  const details: { [key: string]: JsonValue } = {
    host: k.host,
    ip: k.connection.ip,
    commPort: k.commPort,
    pid: k.pid,
    pgid: k.pgid,
    log: k.log,
    launcherFile: k.launcherFile,
  };
  return { provisioner: SSH_PROVISIONER_NAME, kernelId, connection: { ...k.connection }, details };
}

/** For a kernel that may still run where the app cannot reach it: how the user stops it on the host. */
export function stopHint(kernelId: string, k: SshKept, python: string): string {
  const how = k.launcherFile
    ? shellQuote(stopCommandArgs({ python, launcherFile: k.launcherFile, kernelId }))
    : `kill -TERM -- -${k.pgid}`;
  return `it may still run on ${k.host} (pid ${k.pid}); to stop it, run there: ${how}`;
}
