// What a Docker kernel left running (or listed in the crash journal) saves: the DockerProvisioner's state, i.e.
// the container, where this computer dialled it, the launcher's comm port and the kernel's connection. It holds
// the HMAC key, so it lives only in the main process and the 0600 state file (electron/kernels/left-running.ts).
import { DOCKER_PROVISIONER_NAME } from '../../../provisioners/docker/docker-provisioner';
import type { ConnectionInfo, ProvisionerState } from '../../../provisioners/types';
import type { KeptKernelDetails } from '../../kernels/left-running';
import type { KeptDetails } from '../kinds/types';

export interface DockerKept extends KeptKernelDetails {
  kind: string;
  containerId: string;
  address: string;
  commPort: number;
  connection: ConnectionInfo;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isPort = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 65536;
const PORTS = ['shell_port', 'iopub_port', 'stdin_port', 'control_port', 'hb_port'] as const;

/** kept.parse of the docker kind (and swarm's, with its kind name): null for a record that cannot be used. */
export function parseDockerKept(v: KeptDetails, kind = 'docker'): DockerKept | null {
  const c = v.connection;
  if (v.kind !== kind || !isStr(v.containerId) || !isStr(v.address) || !isPort(v.commPort) || !isObj(c))
    return null;
  if (c.transport !== 'tcp' || !isStr(c.ip) || !isStr(c.key) || !PORTS.every((p) => isPort(c[p])))
    return null;
  const connection: ConnectionInfo = {
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
  return { kind, containerId: v.containerId, address: v.address, commPort: v.commPort, connection };
}

export function dockerKeptOf(s: ProvisionerState): DockerKept {
  const d = s.details;
  return {
    kind: 'docker',
    containerId: String(d.containerId),
    address: String(d.address),
    commPort: Number(d.commPort),
    connection: { ...s.connection },
  };
}

export function dockerStateOf(kernelId: string, k: DockerKept): ProvisionerState {
  return {
    provisioner: DOCKER_PROVISIONER_NAME,
    kernelId,
    connection: { ...k.connection },
    details: { containerId: k.containerId, address: k.address, commPort: k.commPort },
  };
}
