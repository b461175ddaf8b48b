// Our launcher (gd_launcher.py, standard library only) goes into each kernel's container before it starts:
// `putArchive` of a one-file tar into /tmp, which every image has (the container runs it as its main process,
// `gd_launcher.py run`). Copying instead of bind-mounting works on a remote engine too, where this computer's
// files are not there to mount. The tar is built here (one ustar entry): no dependency for 512-byte headers.
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

/** A ustar archive of one regular file (`name` without directories, mode 0644 unless given). */
export function singleFileTar(name: string, data: Buffer, mode = 0o644): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name too long: ${name}`);
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 8, 'ascii');
  h.write(octal(0, 8), 108, 8, 'ascii');
  h.write(octal(0, 8), 116, 8, 'ascii');
  h.write(octal(data.length, 12), 124, 12, 'ascii');
  h.write(octal(Math.floor(Date.now() / 1000), 12), 136, 12, 'ascii');
  h.write('        ', 148, 8, 'ascii'); // the checksum counts its own field as spaces
  h.write('0', 156, 1, 'ascii');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 8, 'ascii');
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([h, data, pad, Buffer.alloc(1024)]);
}

let archive: Buffer | undefined;

/** The launcher as a tar for `container.putArchive(tar, { path: CONTAINER_LAUNCHER_DIR })`. */
export function launcherArchive(): Buffer {
  archive ??= singleFileTar('gd_launcher.py', launcherSource());
  return archive;
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
