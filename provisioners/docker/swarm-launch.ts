// The steps of a Swarm launch that wait on the Swarm: the launcher's report out of the service's logs (with the
// task's state as progress meanwhile), where the kernel binds, and where this computer dials it.
import type { LauncherReport } from '../remote/launcher-protocol';
import type { LaunchBounds, ProvisionerState } from '../types';
import { serviceLogTail, type ServiceLogFollower } from './service-logs';
import type { SwarmAccess } from './swarm-provisioner';
import {
  nodeAddress,
  serviceTasks,
  taskEnded,
  taskEndText,
  taskNetworkAddress,
  taskStep,
} from './swarm-tasks';

const isReport = (l: string): boolean => l.startsWith('GDL1 ') || l.startsWith('GDL1-ERROR ');

/**
 * The launcher's report line from the service's logs, with progress from the task's state meanwhile. A task
 * that ends first fails the launch with the Swarm's reason and its last log lines. Bound by `bounds.signal`.
 */
export async function awaitReport(
  access: SwarmAccess,
  serviceId: string,
  follower: ServiceLogFollower,
  bounds: LaunchBounds,
): Promise<string> {
  const { docker, where } = access;
  await follower.start();
  let last = '';
  let ended: string | undefined;
  const line = await follower.waitForLine(isReport, bounds.signal, async () => {
    const task = (await serviceTasks(docker, serviceId).catch(() => []))[0];
    const step = taskStep(task, where);
    const said = `${step.phase}|${step.message}|${step.detail ?? ''}`;
    if (said !== last) bounds.progress(step.phase, step.message, step.detail);
    last = said;
    if (task && taskEnded(task)) ended = taskEndText(task);
    return ended !== undefined;
  });
  if (line) return line;
  // The task ended before the follower saw a report: the logs may still hold the launcher's error line.
  const tail = await serviceLogTail(docker, serviceId);
  const error = tail.split(/\r?\n/).find(isReport);
  if (error) return error;
  throw new Error(
    `The kernel's task on ${where} ended before the kernel was up (${ended ?? 'the service is gone'})` +
      (tail ? `\nLast output:\n${tail}` : ''),
  );
}

/**
 * The address the kernel binds on its node: 127.0.0.1 on a one-node Swarm of this computer's own engine
 * (nothing else on the network reaches it); otherwise all of the node's addresses, since this computer dials
 * it from outside (the key-signed messages still refuse anyone without the key).
 */
export async function bindAddress(access: SwarmAccess): Promise<string> {
  if (access.network !== 'host' || !access.localEngine || access.kernelAddress) return '0.0.0.0';
  const nodes = await access.docker.listNodes();
  return nodes.length === 1 ? '127.0.0.1' : '0.0.0.0';
}

/** Where this computer reaches the kernel: the node of its task (the task's address on an overlay network). */
export async function kernelAddress(
  access: SwarmAccess,
  serviceId: string,
): Promise<{ ip: string; nodeId: string }> {
  const task = (await serviceTasks(access.docker, serviceId))[0];
  if (!task?.NodeID) throw new Error(`the kernel's task on ${access.where} has no node`);
  if (access.kernelAddress) return { ip: access.kernelAddress, nodeId: task.NodeID };
  if (access.network !== 'host') {
    const ip = taskNetworkAddress(task, access.network);
    if (!ip) throw new Error(`the kernel's task has no address on network ${access.network}`);
    return { ip, nodeId: task.NodeID };
  }
  const node = await nodeAddress(access.docker, task.NodeID);
  const ip = node.self && access.localEngine ? '127.0.0.1' : node.addr;
  if (!ip || ip === '0.0.0.0') throw new Error(`the Swarm knows no address of node ${task.NodeID}`);
  return { ip, nodeId: task.NodeID };
}

/** The id dockerode's create calls return (`{ id }` for services and secrets, `{ ID }` for configs). */
export function idOf(created: unknown): string {
  const o = created as { id?: unknown; ID?: unknown };
  const id = typeof o.id === 'string' ? o.id : o.ID;
  if (typeof id !== 'string') throw new Error('the engine created an object but gave no id');
  return id;
}

/** Saved state -> the report fields a re-attached provisioner uses (ports, comm port, pid). */
export function reportOf(state: ProvisionerState, commPort: number): LauncherReport {
  const c = state.connection;
  return {
    kernelId: state.kernelId,
    ip: c.ip,
    shellPort: c.shell_port,
    iopubPort: c.iopub_port,
    stdinPort: c.stdin_port,
    controlPort: c.control_port,
    hbPort: c.hb_port,
    commPort,
    pid: typeof state.details.pid === 'number' ? state.details.pid : 0,
    pgid: 0,
    log: '',
    launcherVersion: '',
  };
}
