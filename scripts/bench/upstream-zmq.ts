// The bench path "upstream_zmq": a kernel started through the upstream Jupyter Server's REST API, reached
// over ZMQ straight from its connection file in the server's runtime dir. It is the same kernel the relay
// and the upstream's own WebSocket talk to, minus every WebSocket hop: the floor for both.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionInfo } from '../../provisioners/types';
import { KernelConnection } from '../../provisioners/zmq/kernel-connection';
import { ZmqBenchClient } from './kernel-client';
import type { BenchPath } from './measure';

async function connectionFile(file: string, timeoutMs = 30_000): Promise<ConnectionInfo> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`no connection file ${file}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return JSON.parse(readFileSync(file, 'utf8')) as ConnectionInfo;
}

export function upstreamZmqPath(server: { url: string; token: string; runtimeDir: string }): BenchPath {
  const headers = { Authorization: `token ${server.token}`, 'Content-Type': 'application/json' };
  return {
    name: 'upstream_zmq',
    async start() {
      const r = await fetch(`${server.url}/api/kernels`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ name: 'python3' }),
      });
      if (r.status !== 201) throw new Error(`upstream_zmq: POST /api/kernels → ${r.status}`);
      const { id } = (await r.json()) as { id: string };
      const info = await connectionFile(join(server.runtimeDir, `kernel-${id}.json`));
      const conn = new KernelConnection(info, { log: () => undefined });
      const client = new ZmqBenchClient((session, onMessage) => {
        const channels = conn.openChannels(session, onMessage);
        const off = conn.onIopub(onMessage);
        return {
          send: (m) => void channels.send(m),
          close: () => {
            off();
            channels.close();
          },
        };
      });
      // The iopub SUB joins late (ZMQ slow joiner): wait until a request's idle status comes through, or the
      // first measured execute could miss its idle.
      for (let i = 0; ; i++) {
        try {
          await client.request('shell', 'kernel_info_request', {}, { waitIdle: true, timeoutMs: 500 });
          break;
        } catch (e) {
          if (i > 60) throw e;
        }
      }
      return {
        id,
        client,
        stop: async () => {
          client.close();
          conn.close();
          await fetch(`${server.url}/api/kernels/${id}`, { method: 'DELETE', headers });
        },
      };
    },
  };
}
