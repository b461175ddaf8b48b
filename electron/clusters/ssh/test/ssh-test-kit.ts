// What the SSH cluster suites share: the skip when there is no sshd, a cluster config against a test sshd, the
// clusters and kernels a suite started (to stop in its `after`), running code in a kernel, interrupting a sleep,
// and which processes of a kernel still run on the host (the host is this machine: /proc tells).
import { randomUUID } from 'node:crypto';
import type { KernelManager } from '../../../../provisioners/kernel-manager';
import type { KernelBackend, LaunchProgress } from '../../../../provisioners/types';
import { sshdAvailable, type TestSshd } from '../../../../scripts/testing/sshd';
import type { SshClusterConfig } from '../../kinds/ssh/config';
import { SshCluster } from '../ssh-cluster';
import { Inbox, PYTHON, executeMsg } from '../../test/helpers';
import { pidsMentioning } from './procfs';

export const skipWithoutSshd = sshdAvailable()
  ? false
  : 'no /usr/sbin/sshd here (apt-get install openssh-server)';

/** No secrets: the test sshd takes the fixture's unencrypted client key. */
export const noSecrets = { get: (): string | undefined => undefined };

/**
 * An SSH cluster on `sshd` (127.0.0.1, the fixture's key and known_hosts, the system Python). A key that `over`
 * sets to undefined is left out (e.g. `knownHostsFile: undefined` for ~/.ssh/known_hosts).
 */
export function sshClusterConfig(sshd: TestSshd, over: Partial<SshClusterConfig> = {}): SshClusterConfig {
  const cfg: SshClusterConfig = {
    id: 'lab',
    name: 'Lab server',
    kind: 'ssh',
    hosts: ['127.0.0.1'],
    user: sshd.user,
    port: sshd.port,
    identityFile: sshd.clientKey,
    useAgent: false,
    knownHostsFile: sshd.knownHostsFile,
    python: PYTHON,
    ...over,
  };
  for (const [k, v] of Object.entries(over)) if (v === undefined) delete cfg[k as keyof SshClusterConfig];
  return cfg;
}

export interface StartOptions {
  kernelId?: string;
  specName?: string;
  env?: Record<string, string>;
  onProgress?: (p: LaunchProgress) => void;
}

/** The clusters and kernels a suite made: `stop()` in its `after` shuts the kernels down, then the clusters. */
export class SshTestBed {
  readonly clusters: SshCluster[] = [];
  readonly kernels: KernelBackend[] = [];
  /** The id of every kernel `start` asked for, started or not. */
  readonly kernelIds: string[] = [];

  cluster(cfg: SshClusterConfig, sshConfigFile?: string): SshCluster {
    const c = new SshCluster(cfg, {
      secrets: noSecrets,
      log: () => undefined,
      ...(sshConfigFile ? { target: { sshConfigFile } } : {}),
    });
    this.clusters.push(c);
    return c;
  }

  async start(c: SshCluster, opts: StartOptions = {}): Promise<KernelManager> {
    const kernelId = opts.kernelId ?? randomUUID();
    this.kernelIds.push(kernelId);
    const k = (await c.startKernel({
      kernelId,
      specName: opts.specName ?? 'python3',
      env: opts.env ?? {},
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    })) as KernelManager;
    this.kernels.push(k);
    return k;
  }

  /** A kernel that came another way (a re-attach), to be shut down with the rest. */
  keep<K extends KernelBackend>(k: K): K {
    this.kernels.push(k);
    return k;
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.kernels.map((k) => k.shutdown()));
    await Promise.allSettled(this.clusters.map((c) => c.dispose()));
  }
}

/** Run `code` in the kernel and return what it printed. */
export async function run(k: KernelBackend, code: string): Promise<string> {
  const inbox = new Inbox();
  const session = randomUUID();
  const port = k.openPort(session, inbox.push);
  try {
    const ex = executeMsg(code, session);
    port.send(ex.msg);
    await inbox.idleFor(ex.msgId, 30_000);
    return inbox.streamText(ex.msgId);
  } finally {
    port.close();
  }
}

/** Start a 60 s sleep, interrupt the kernel once it is busy, and return the reply's ename. */
export async function interruptSleep(k: KernelBackend): Promise<unknown> {
  const inbox = new Inbox();
  const session = randomUUID();
  const port = k.openPort(session, inbox.push);
  try {
    const ex = executeMsg("import time\nprint('sleeping', flush=True)\ntime.sleep(60)", session);
    port.send(ex.msg);
    // The cell's own output, not any 'busy': an interrupt that arrives before the cell runs is lost.
    await inbox.wait((p) => p.parentMsgId === ex.msgId && p.msgType === 'stream', 30_000, 'the cell running');
    await k.interrupt();
    const reply = await inbox.wait(
      (p) => p.parentMsgId === ex.msgId && p.msgType === 'execute_reply',
      15_000,
      'execute_reply',
    );
    return reply.content.ename;
  } finally {
    port.close();
  }
}

/** The kernel process (its command line names its connection file) and nothing else. */
export const kernelPids = (kernelId: string): number[] => pidsMentioning(`kernel-${kernelId}.json`);
