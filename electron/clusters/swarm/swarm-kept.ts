// What a Swarm kernel left running (or listed in the crash journal) saves: the SwarmProvisioner's state, i.e.
// its service, request secret and launcher config, the node it runs on, the launcher's comm port and the
// kernel's connection as dialled. It holds the HMAC key, so it lives only in the main process and the 0600
// state file (electron/kernels/left-running.ts).
import { SWARM_PROVISIONER_NAME } from '../../../provisioners/docker/swarm-provisioner';
import type { ConnectionInfo, JsonValue, ProvisionerState } from '../../../provisioners/types';
import type { KeptKernelDetails } from '../../kernels/left-running';
import type { KeptDetails } from '../kinds/types';

export interface SwarmKept extends KeptKernelDetails {
  kind: 'swarm';
  serviceId: string;
  secretId: string | null;
  configId: string | null;
  nodeId: string;
  commPort: number;
  pid: number;
  connection: ConnectionInfo;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isPort = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 65536;
const PORTS = ['shell_port', 'iopub_port', 'stdin_port', 'control_port', 'hb_port'] as const;

function parseConnection(c: unknown): ConnectionInfo | null {
  if (!isObj(c) || c.transport !== 'tcp' || !isStr(c.ip) || !isStr(c.key)) return null;
  if (!PORTS.every((p) => isPort(c[p]))) return null;
  return {
    transport: 'tcp',
    ip: c.ip,
    key: c.key,
    signature_scheme: isStr(c.signature_scheme) ? c.signature_scheme : 'hmac-sha256',
    shell_port: c.shell_port as number,
    iopub_port: c.iopub_port as number,
    stdin_port: c.stdin_port as number,
    control_port: c.control_port as number,
    hb_port: c.hb_port as number,
  };
}

/** The swarm kind's kept.parse: null for anything loadProvisionerInfo could not use (the record is dropped). */
export function parseSwarmKept(v: KeptDetails): SwarmKept | null {
  const connection = parseConnection(v.connection);
  if (v.kind !== 'swarm' || !connection || !isStr(v.serviceId) || !isPort(v.commPort)) return null;
  return {
    kind: 'swarm',
    serviceId: v.serviceId,
    secretId: isStr(v.secretId) ? v.secretId : null,
    configId: isStr(v.configId) ? v.configId : null,
    nodeId: isStr(v.nodeId) ? v.nodeId : '',
    commPort: v.commPort,
    pid: typeof v.pid === 'number' ? v.pid : 0,
    connection,
  };
}

/** SwarmProvisioner.getProvisionerInfo() -> what is saved. */
export function swarmKeptOf(state: ProvisionerState): SwarmKept | null {
  return parseSwarmKept({ kind: 'swarm', ...state.details, connection: { ...state.connection } });
}

/** What is saved -> the state SwarmProvisioner.loadProvisionerInfo takes. */
export function swarmStateOf(kernelId: string, k: SwarmKept): ProvisionerState {
  const details: { [key: string]: JsonValue } = {
    serviceId: k.serviceId,
    secretId: k.secretId,
    configId: k.configId,
    nodeId: k.nodeId,
    commPort: k.commPort,
    pid: k.pid,
  };
  return { provisioner: SWARM_PROVISIONER_NAME, kernelId, connection: { ...k.connection }, details };
}
