// Talking to one kernel container: the image check (and pull), the attached stream that carries the request
// line in and the launcher's report out, and the kernel's last output (the launcher's log file inside the
// container, else the container's own log), for failure messages.
import { PassThrough, type Readable } from 'node:stream';
import type Docker from 'dockerode';
import { abortError } from '../abort';

/** The engine's HTTP status on an error from dockerode (404: no such container or image). */
export function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** The engine's own words from a dockerode error ("No such image: x", "OCI runtime create failed: …"). */
export function engineWords(err: unknown): string {
  const e = err as { json?: { message?: unknown }; reason?: unknown; message?: unknown } | null;
  if (typeof e?.json?.message === 'string') return e.json.message;
  return typeof e?.message === 'string' ? e.message.replace(/^\(HTTP code \d+\) [^-]*- /, '') : String(err);
}

export type PullPolicy = 'missing' | 'never';

/**
 * The image is on the engine, or is pulled (policy 'missing') with the engine's progress words. An image that is
 * missing and cannot be pulled fails with its name, the engine and what the engine said.
 */
export async function ensureImage(
  docker: Docker,
  image: string,
  o: {
    pull: PullPolicy;
    engine: string;
    signal: AbortSignal;
    progress(message: string, detail?: string): void;
  },
): Promise<void> {
  try {
    await docker.getImage(image).inspect();
    return;
  } catch (err) {
    if (o.signal.aborted) throw abortError();
    if (statusOf(err) !== 404) throw err;
  }
  if (o.pull === 'never')
    throw new Error(
      `Image "${image}" is not on ${o.engine}, and this cluster does not pull images (no registry pull was ` +
        `attempted): load it there (docker pull / docker load / docker build), or allow pulls.`,
    );
  o.progress(`Image ${image} is not on the engine: pulling it`);
  try {
    const stream = (await docker.pull(image, { abortSignal: o.signal })) as Readable;
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(
        stream,
        (err: Error | null) => (err ? reject(err) : resolve()),
        (e: { status?: string; progress?: string; id?: string }) =>
          o.progress(`Pulling ${image}`, [e.id, e.status, e.progress].filter(Boolean).join(' ')),
      ),
    );
  } catch (err) {
    if (o.signal.aborted) throw abortError();
    throw new Error(
      `Image "${image}" is not on ${o.engine}, and pulling it failed: ${engineWords(err)}. Check the image name, ` +
        'that the engine reaches its registry (and is logged in to it), or load the image there.',
      { cause: err },
    );
  }
}

/** An attached container's stdout, split into lines, and its stderr kept for messages. */
export class AttachedOutput {
  private buffer = '';
  private stderrText = '';
  private ended = false;
  private readonly waiters = new Set<() => void>();

  constructor(
    docker: Docker,
    readonly stream: NodeJS.ReadWriteStream,
  ) {
    const out = new PassThrough();
    const err = new PassThrough();
    docker.modem.demuxStream(stream, out, err);
    out.on('data', (b: Buffer) => this.push(() => (this.buffer += b.toString('utf8'))));
    err.on('data', (b: Buffer) => (this.stderrText = (this.stderrText + b.toString('utf8')).slice(-4000)));
    const end = (): void => this.push(() => (this.ended = true));
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
  }

  get stderr(): string {
    return this.stderrText;
  }

  /** The first line starting with GDL1 (report or error); null when the stream ended without one. */
  async reportLine(signal: AbortSignal): Promise<{ line: string; output: string } | null> {
    for (;;) {
      const line = this.buffer
        .split(/\r?\n/)
        .find((l, i, all) => /^GDL1(-ERROR)? /.test(l) && i < all.length - 1);
      if (line) return { line, output: this.buffer };
      if (this.ended) {
        const last = this.buffer.split(/\r?\n/).find((l) => /^GDL1(-ERROR)? /.test(l));
        return last ? { line: last, output: this.buffer } : null;
      }
      if (signal.aborted) throw abortError();
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.waiters.delete(wake);
          signal.removeEventListener('abort', wake);
          resolve();
        };
        this.waiters.add(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
  }

  /** What the launcher printed besides its report (for messages). */
  get stdout(): string {
    return this.buffer;
  }

  close(): void {
    (this.stream as NodeJS.ReadWriteStream & { destroy?: () => void }).destroy?.();
  }

  private push(change: () => void): void {
    change();
    for (const w of [...this.waiters]) w();
  }
}

/** One file's content from a container (`getArchive` gives a tar of it), or '' when it is not there. */
export async function readContainerFile(
  container: Docker.Container,
  file: string,
  maxBytes = 64 * 1024,
): Promise<string> {
  let stream: NodeJS.ReadableStream;
  try {
    stream = await container.getArchive({ path: file });
  } catch {
    return '';
  }
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  const tar = Buffer.concat(chunks);
  if (tar.length < 512) return '';
  const size = parseInt(tar.subarray(124, 136).toString('ascii').replace(/\0.*$/, '').trim() || '0', 8);
  const body = tar.subarray(512, 512 + size);
  return body.subarray(Math.max(0, body.length - maxBytes)).toString('utf8');
}

/** The container's own log (stdout and stderr of its main process), the last `maxChars`. */
export async function containerLogTail(container: Docker.Container, maxChars: number): Promise<string> {
  try {
    const buf = (await container.logs({
      stdout: true,
      stderr: true,
      follow: false,
      tail: 50,
    })) as unknown as Buffer;
    return stripFrames(buf).slice(-maxChars);
  } catch {
    return '';
  }
}

/** A non-tty container's log comes in 8-byte-header frames: keep the payloads. */
function stripFrames(buf: Buffer): string {
  const parts: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length && (buf[i] === 1 || buf[i] === 2) && buf[i + 1] === 0) {
    const n = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + n));
    i += 8 + n;
  }
  return (i === 0 ? buf : Buffer.concat(parts)).toString('utf8');
}
