// Race-free local port allocation for kernel connection files.
// All ports of one request are held (bound) together until every one is chosen, so the OS never hands the
// same port out twice within a request; ports given out recently are remembered in-process so two launches
// that overlap (before the kernels bind) never receive the same port either.
import { createServer, type Server } from 'node:net';

const RECENT_TTL_MS = 120_000;
const recent = new Map<number, number>(); // port -> handed out at (ms)

function pruneRecent(now: number): void {
  for (const [port, at] of recent) if (now - at > RECENT_TTL_MS) recent.delete(port);
}

function listen(host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ host, port: 0, exclusive: true }, () => {
      srv.off('error', reject);
      resolve(srv);
    });
  });
}

function closeAll(servers: Server[]): Promise<void> {
  return Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined);
}

/**
 * Choose `count` distinct free TCP ports on `host`, none of which was handed out by this process in the last
 * two minutes. The sockets are released before the promise resolves.
 */
export async function allocatePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const held: Server[] = [];
  const chosen: number[] = [];
  try {
    let attempts = 0;
    while (chosen.length < count) {
      if (++attempts > count * 50) throw new Error(`Could not find ${count} free ports on ${host}`);
      const srv = await listen(host);
      held.push(srv); // keep even the rejected ones bound so the OS does not offer them again right away
      const addr = srv.address();
      if (!addr || typeof addr === 'string') continue;
      const port = addr.port;
      if (recent.has(port) || chosen.includes(port)) continue;
      chosen.push(port);
    }
    const now = Date.now();
    pruneRecent(now);
    for (const p of chosen) recent.set(p, now);
    return chosen;
  } finally {
    await closeAll(held);
  }
}

export interface KernelPorts {
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
}

/** The five ports of a kernel connection file. */
export async function allocateKernelPorts(host = '127.0.0.1'): Promise<KernelPorts> {
  const [shell_port, iopub_port, stdin_port, control_port, hb_port] = await allocatePorts(5, host);
  return { shell_port, iopub_port, stdin_port, control_port, hb_port };
}

/** Forget ports (e.g. after the kernel that used them has exited) so they may be handed out again. */
export function releasePorts(ports: Iterable<number>): void {
  for (const p of ports) recent.delete(p);
}
