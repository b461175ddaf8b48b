// A Swarm service's task as the launch and the poll see it: the task that runs (or tries to run) the kernel, its
// state in the Swarm's own words, and the address of the node it runs on. dockerode types tasks and nodes as
// `any`: the fields read here are typed once, below.
import type Docker from 'dockerode';

/** The part of a Swarm task (GET /tasks) this module reads. */
export interface SwarmTask {
  ID: string;
  NodeID?: string;
  CreatedAt?: string;
  DesiredState?: string;
  Status?: {
    State?: string;
    Message?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
  };
  NetworksAttachments?: { Network?: { Spec?: { Name?: string } }; Addresses?: string[] }[];
}

/** States on the way to running (the Swarm's `TaskState`), in order. */
const STARTING = ['new', 'allocated', 'pending', 'assigned', 'accepted', 'ready', 'preparing', 'starting'];
/** States a task never leaves: with RestartPolicy none, the kernel is gone. */
export const TASK_ENDED = ['complete', 'failed', 'shutdown', 'rejected', 'orphaned', 'remove'];

export function taskState(t: SwarmTask | undefined): string {
  return (t?.Status?.State ?? '').toLowerCase();
}

export function taskEnded(t: SwarmTask | undefined): boolean {
  return TASK_ENDED.includes(taskState(t));
}

/** The service's tasks, newest first (one replica and no restart: normally exactly one). */
export async function serviceTasks(docker: Docker, serviceId: string): Promise<SwarmTask[]> {
  const tasks = (await docker.listTasks({ filters: { service: [serviceId] } })) as SwarmTask[];
  return tasks.sort((a, b) => (b.CreatedAt ?? '').localeCompare(a.CreatedAt ?? ''));
}

export interface TaskStep {
  phase: string;
  message: string;
  /** The Swarm's own words (its message, or its error while the task waits: "no suitable node (...)"). */
  detail?: string;
}

/** Where a launch stands, from the task's state, for the launch progress. */
export function taskStep(t: SwarmTask | undefined, where: string): TaskStep {
  const state = taskState(t);
  const said = [t?.Status?.Err, t?.Status?.Message].find((s) => s && s !== state && s.trim() !== '');
  const detail = said ? { detail: said } : {};
  if (!t || ['new', 'allocated', 'pending'].includes(state))
    return { phase: 'scheduling', message: `Waiting for ${where} to place the kernel's task`, ...detail };
  if (['assigned', 'accepted', 'ready'].includes(state))
    return { phase: 'scheduling', message: `The task is assigned to a node of ${where}`, ...detail };
  if (state === 'preparing')
    return {
      phase: 'preparing',
      message: 'Preparing the task (pulling the image if the node lacks it)',
      ...detail,
    };
  if (state === 'starting')
    return { phase: 'starting', message: "Starting the kernel's container", ...detail };
  if (state === 'running')
    return { phase: 'starting', message: "The task runs; waiting for the launcher's report", ...detail };
  return { phase: 'failed', message: `The task is ${state}`, ...detail };
}

/** Whether the task is still on its way up or up (not ended). */
export function taskAlive(t: SwarmTask | undefined): boolean {
  const s = taskState(t);
  return s === 'running' || STARTING.includes(s);
}

/** Why an ended task ended, in the Swarm's words: "failed: task: non-zero exit (1)". */
export function taskEndText(t: SwarmTask): string {
  const why = t.Status?.Err || t.Status?.Message || '';
  const code = t.Status?.ContainerStatus?.ExitCode;
  return `${taskState(t)}${why ? `: ${why}` : ''}${code !== undefined && !why.includes(String(code)) ? ` (exit code ${code})` : ''}`;
}

/** The address of the node that runs the task, as the Swarm knows it (its advertise address). */
export async function nodeAddress(docker: Docker, nodeId: string): Promise<{ addr: string; self: boolean }> {
  const node = (await docker.getNode(nodeId).inspect()) as { Status?: { Addr?: string } };
  const info = (await docker.info()) as { Swarm?: { NodeID?: string } };
  return { addr: node.Status?.Addr ?? '', self: info.Swarm?.NodeID === nodeId };
}

/** The task's address on a named (overlay) network, without the prefix length. */
export function taskNetworkAddress(t: SwarmTask, network: string): string | undefined {
  const att = t.NetworksAttachments?.find((a) => a.Network?.Spec?.Name === network);
  return att?.Addresses?.[0]?.split('/')[0];
}
