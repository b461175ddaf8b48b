// A private Docker Engine for tests (../shared/TESTBED.md, "Containers"): Debian's dockerd with its own data and
// exec roots in short temp dirs, listening only on its own unix socket, no iptables and no bridge (containers
// use the host's network). No registry is reachable, so the fixture makes its image itself: `docker import` of
// an almost empty rootfs; containers then bind-mount the host's /usr, /lib, /lib64 and /etc read-only, so the
// host's /usr/bin/python3 with ipykernel runs inside a real container. Optionally a real single-node Swarm.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import Docker from 'dockerode';

const DOCKERD = '/usr/sbin/dockerd';

/** Why Docker tests cannot run here, or null when they can. */
export function dockerdUnavailable(): string | null {
  if (!existsSync(DOCKERD)) return `no ${DOCKERD} here (apt-get install docker.io)`;
  if (process.getuid?.() !== 0) return 'dockerd needs root here';
  return null;
}

/** The host directories a test container needs to run the host's Python (read-only bind mounts). */
export const HOST_RUNTIME_MOUNTS: readonly string[] = ['/usr', '/lib', '/lib64', '/etc'].filter((d) =>
  existsSync(d),
);

export interface TestDockerd {
  /** `unix:///…/docker.sock`, for DOCKER_HOST or a cluster's host setting. */
  host: string;
  socketPath: string;
  /** A dockerode client of this engine. */
  docker: Docker;
  /** The local image tests run (an almost empty rootfs with /tmp; mount HOST_RUNTIME_MOUNTS to run Python). */
  image: string;
  /** Whether `docker swarm init` made it a single-node Swarm. */
  swarm: boolean;
  logPath: string;
  stop(): Promise<void>;
}

export interface DockerdOptions {
  /** Make the engine a single-node Swarm manager (advertising 127.0.0.1). */
  swarm?: boolean;
}

const TEST_IMAGE = 'gateway-desktop-test:1';

/** A tar of an almost empty rootfs: the mount points a container needs, and a writable /tmp. */
function rootfsTar(dir: string): Buffer {
  const root = path.join(dir, 'rootfs');
  for (const d of ['tmp', 'usr', 'lib', 'lib64', 'etc', 'proc', 'sys', 'dev', 'run', 'home', 'root'])
    mkdirSync(path.join(root, d), { recursive: true, mode: 0o755 });
  // mkdir's mode goes through the umask (1777 became 1755): a kernel run as another uid needs a writable /tmp.
  chmodSync(path.join(root, 'tmp'), 0o1777);
  return execFileSync('tar', ['-C', root, '-c', '.'], { maxBuffer: 16 * 1024 * 1024 });
}

/** The engine leaves mounts behind (its network namespace file, overlay layers): unmount them, deepest first. */
function unmountBelow(...roots: string[]): void {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => roots.some((r) => p === r || p.startsWith(`${r}/`)))
    .sort((a, b) => b.length - a.length);
  for (const p of points) {
    try {
      execFileSync('umount', ['-l', p], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}

async function until<T>(what: string, probe: () => Promise<T>, timeoutMs: number, log: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      return await probe();
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
      throw new Error(`${what} within ${timeoutMs} ms: ${String(last)}\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startDockerd(opts: DockerdOptions = {}): Promise<TestDockerd> {
  // Short paths: the engine puts unix sockets below them (108-byte limit).
  const dataRoot = mkdtempSync('/tmp/gdd-');
  const execRoot = mkdtempSync('/tmp/gdx-');
  const socketPath = path.join(dataRoot, 'docker.sock');
  const logPath = path.join(dataRoot, 'dockerd.log');
  const pidFile = path.join(dataRoot, 'dockerd.pid');
  const out = openSync(logPath, 'a');
  const proc = spawn(
    DOCKERD,
    [
      '--data-root',
      dataRoot,
      '--exec-root',
      execRoot,
      '-H',
      `unix://${socketPath}`,
      '--pidfile',
      pidFile,
      '--iptables=false',
      '--ip-masq=false',
      '--bridge=none',
    ],
    { stdio: ['ignore', out, out] },
  );
  const killNow = (): void => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
  };
  process.once('exit', killNow);
  const docker = new Docker({ socketPath });
  let swarm = false;
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killNow);
    if (swarm) await docker.swarmLeave({ force: true }).catch(() => undefined);
    if (proc.exitCode === null) {
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    unmountBelow(dataRoot, execRoot);
    rmSync(dataRoot, { recursive: true, force: true });
    rmSync(execRoot, { recursive: true, force: true });
  };
  try {
    await until('dockerd to answer', () => docker.ping(), 30_000, logPath);
    const imported = await docker.importImage(Readable.from([rootfsTar(dataRoot)]), {
      repo: TEST_IMAGE.split(':')[0],
      tag: TEST_IMAGE.split(':')[1],
    });
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(imported, (err) => (err ? reject(err) : resolve())),
    );
    if (opts.swarm) {
      await docker.swarmInit({ ListenAddr: '127.0.0.1:0', AdvertiseAddr: '127.0.0.1' });
      swarm = true;
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { host: `unix://${socketPath}`, socketPath, docker, image: TEST_IMAGE, swarm, logPath, stop };
}
