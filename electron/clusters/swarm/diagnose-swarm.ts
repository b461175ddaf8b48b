// "Test connection" for a Swarm cluster: reach the engine as a kernel start would (same host, TLS files,
// socket; the docker kind's words for what goes wrong there), then check that it is a Swarm manager (services
// can only be created through one) and that the Swarm has a ready node, with the GPUs asked for if any.
import type Docker from 'dockerode';
import { describeEngine, effectiveHost, engineClient } from '../../../provisioners/docker/engine';
import { DEFAULT_GPU_RESOURCE } from '../../../provisioners/docker/swarm-spec';
import type { Diagnosis } from '../diagnose';
import { engineProblem } from '../docker/diagnose-docker';
import { engineSettingsOf } from '../kinds/docker/config';
import type { SwarmClusterConfig } from '../kinds/swarm/config';

type Problem = Pick<Diagnosis, 'code' | 'title' | 'detail' | 'hint'>;

/** The parts of GET /info and GET /nodes read here (dockerode types nodes as `any`). */
interface SwarmInfo {
  ServerVersion?: string;
  Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; Error?: string; Nodes?: number };
}
interface NodeInfo {
  Status?: { State?: string };
  Spec?: { Role?: string; Availability?: string };
  Description?: {
    Hostname?: string;
    Resources?: {
      NanoCPUs?: number;
      MemoryBytes?: number;
      GenericResources?: { DiscreteResourceSpec?: { Kind?: string; Value?: number } }[];
    };
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), ms).unref(),
    ),
  ]);
}

/** Not a Swarm, or not a manager: what the engine says and what to run. */
function swarmProblem(info: SwarmInfo, engine: string): Problem | null {
  const state = info.Swarm?.LocalNodeState || 'inactive';
  const about = `Docker ${info.ServerVersion ?? '?'}; Swarm: ${state}${info.Swarm?.Error ? ` (${info.Swarm.Error})` : ''}`;
  if (state !== 'active')
    return {
      code: 'not-swarm',
      title: `${engine} is not a Swarm manager: it is not part of a Swarm`,
      detail: about,
      hint: 'Run `docker swarm init` on it (a one-node Swarm), or `docker swarm join` it to your Swarm, or set the host to a manager of your Swarm. Or add it as a Docker cluster instead.',
    };
  if (info.Swarm?.ControlAvailable !== true)
    return {
      code: 'not-swarm',
      title: `${engine} is a Swarm worker, not a manager`,
      detail: about,
      hint: 'Services are created through a manager: set the host to a manager node (`docker node ls` on one lists them), or promote this one (`docker node promote`).',
    };
  return null;
}

export async function diagnoseSwarm(
  cfg: SwarmClusterConfig,
  opts: { timeoutMs?: number } = {},
): Promise<Diagnosis> {
  const t0 = Date.now();
  const settings = engineSettingsOf(cfg);
  const engine = describeEngine(settings);
  const url = effectiveHost(settings);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const out = (ok: boolean, severity: Diagnosis['severity'], p: Problem): Diagnosis => ({
    ok,
    severity,
    url,
    elapsedMs: Date.now() - t0,
    ...p,
  });
  let docker: Docker;
  try {
    docker = engineClient(settings);
  } catch (err) {
    return out(false, 'error', {
      code: 'config',
      title: 'The Docker settings cannot be used',
      detail: String((err as Error).message),
      hint: 'Fix the host or the TLS file paths.',
    });
  }
  let info: SwarmInfo;
  let nodes: NodeInfo[];
  try {
    info = (await withTimeout(docker.info(), timeoutMs)) as SwarmInfo;
    const problem = swarmProblem(info, engine);
    if (problem) return out(false, 'error', problem);
    nodes = (await withTimeout(docker.listNodes(), timeoutMs)) as NodeInfo[];
  } catch (err) {
    return out(false, 'error', engineProblem(err, engine));
  }
  const ready = nodes.filter((n) => n.Status?.State === 'ready' && n.Spec?.Availability === 'active');
  const managers = nodes.filter((n) => n.Spec?.Role === 'manager').length;
  const cpus = ready.reduce((s, n) => s + (n.Description?.Resources?.NanoCPUs ?? 0), 0) / 1e9;
  const mem = ready.reduce((s, n) => s + (n.Description?.Resources?.MemoryBytes ?? 0), 0) / 1024 ** 3;
  const detail =
    `Docker ${info.ServerVersion ?? '?'}; ${nodes.length} node${nodes.length === 1 ? '' : 's'} ` +
    `(${ready.length} ready and active, ${managers} manager${managers === 1 ? '' : 's'}); ` +
    `${cpus} CPUs and ${mem.toFixed(1)} GiB on the ready nodes`;
  if (!ready.length)
    return out(false, 'error', {
      code: 'config',
      title: `The Swarm behind ${engine} has no ready, active node`,
      detail,
      hint: 'Kernels would wait for ever: bring a node up, or set one active (`docker node update --availability active NODE`).',
    });
  const kind = cfg.gpuResource ?? DEFAULT_GPU_RESOURCE;
  const gpus = ready.reduce(
    (s, n) =>
      s +
      (n.Description?.Resources?.GenericResources ?? [])
        .filter((g) => g.DiscreteResourceSpec?.Kind === kind)
        .reduce((t, g) => t + (g.DiscreteResourceSpec?.Value ?? 0), 0),
    0,
  );
  const wanted = [cfg.gpus, ...(cfg.environments ?? []).map((e) => e.gpus)].some((g) => g && g !== '0');
  if (wanted && gpus === 0)
    return out(true, 'warning', {
      code: 'config',
      title: `The Swarm answers, but no ready node advertises ${kind} GPUs`,
      detail,
      hint: `Kernels that ask for GPUs would wait for ever: advertise them on the GPU nodes (dockerd's node-generic-resources, e.g. "${kind}=GPU-uuid"), or set the cluster's GPU resource to the kind they use.`,
    });
  return out(true, 'ok', {
    code: 'ok',
    title: `Connected to the Swarm through ${engine}`,
    detail: gpus ? `${detail}; ${gpus} ${kind}` : detail,
    hint: '',
  });
}
