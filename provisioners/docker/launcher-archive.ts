// Our launcher (gd_launcher.py, standard library only) goes into each kernel's container before it starts:
// `putArchive` of a one-file tar into /tmp, which every image has (the container runs it as its main process,
// `gd_launcher.py run`), with the launcher's state directory. Copying instead of bind-mounting works on a remote
// engine too, where this computer's files are not there to mount. The tar is built here (ustar headers): no
// dependency for 512-byte headers.
import { launcherSource } from '../remote/launcher-protocol';

/** Where the launcher lands in the container, and where it keeps the connection file, state and log. */
export const CONTAINER_LAUNCHER_DIR = '/tmp';
export const CONTAINER_LAUNCHER_FILE = '/tmp/gd_launcher.py';
export const CONTAINER_STATE_DIR = '/tmp/gateway-desktop';
export const CONTAINER_LOG_FILE = (kernelId: string): string =>
  `${CONTAINER_STATE_DIR}/kernel-${kernelId}.log`;

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

/** One tar entry: a regular file, or a directory (data undefined). */
export interface TarEntry {
  name: string;
  data?: Buffer;
  mode: number;
  uid?: number;
  gid?: number;
}

function header(e: TarEntry, size: number): Buffer {
  if (Buffer.byteLength(e.name) > 100) throw new Error(`tar entry name too long: ${e.name}`);
  const h = Buffer.alloc(512);
  h.write(e.name, 0, 100, 'utf8');
  h.write(octal(e.mode, 8), 100, 8, 'ascii');
  h.write(octal(e.uid ?? 0, 8), 108, 8, 'ascii');
  h.write(octal(e.gid ?? 0, 8), 116, 8, 'ascii');
  h.write(octal(size, 12), 124, 12, 'ascii');
  h.write(octal(Math.floor(Date.now() / 1000), 12), 136, 12, 'ascii');
  h.write('        ', 148, 8, 'ascii'); // the checksum counts its own field as spaces
  h.write(e.data ? '0' : '5', 156, 1, 'ascii');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 8, 'ascii');
  return h;
}

/** A ustar archive of files and directories (names without a leading /). */
export function tarOf(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    parts.push(header(e, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A ustar archive of one regular file (mode 0644 unless given). */
export function singleFileTar(name: string, data: Buffer, mode = 0o644): Buffer {
  return tarOf([{ name, data, mode }]);
}

/**
 * The launcher and its state directory as a tar for `container.putArchive(tar, { path: CONTAINER_LAUNCHER_DIR })`.
 * The directory belongs to the kernel's user when it is known (mode 0700), else it is world-writable with the
 * sticky bit as /tmp is: the kernel may run as any user of the image, and an image's /tmp is not always 1777.
 */
export function launcherArchive(owner?: { uid?: number; gid?: number }): Buffer {
  const dir = CONTAINER_STATE_DIR.slice(CONTAINER_LAUNCHER_DIR.length + 1) + '/';
  const known = owner?.uid !== undefined;
  return tarOf([
    { name: dir, mode: known ? 0o700 : 0o1777, uid: owner?.uid ?? 0, gid: owner?.gid ?? 0 },
    { name: 'gd_launcher.py', data: launcherSource(), mode: 0o644 },
  ]);
}

export interface ContainerLauncherOptions {
  /** The Python inside the image that runs the launcher (the kernel's own argv may use another). */
  python: string;
  kernelId: string;
  /** Address the kernel binds: 127.0.0.1 with the host's network, 0.0.0.0 on a container network. */
  ip: string;
  portRange?: { lo: number; hi: number };
  /** Read the request from this file instead of stdin (a Swarm secret). */
  requestFile?: string;
  /** The kernel's argv; `{connection_file}` is replaced by the launcher. */
  argv: string[];
}

/** The container's command: `python gd_launcher.py run …  -- KERNEL_ARGV`. */
export function containerLauncherArgv(o: ContainerLauncherOptions): string[] {
  return [
    o.python,
    CONTAINER_LAUNCHER_FILE,
    'run',
    '--kernel-id',
    o.kernelId,
    '--ip',
    o.ip,
    '--state-dir',
    CONTAINER_STATE_DIR,
    ...(o.portRange ? ['--port-range', `${o.portRange.lo}..${o.portRange.hi}`] : []),
    ...(o.requestFile ? ['--request-file', o.requestFile] : []),
    '--',
    ...o.argv,
  ];
}
