// A kernel's output, kept for launch diagnostics: a bounded ring of what it printed, or a log file's tail.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** A bounded text ring: keeps the last `max` bytes written (for launch diagnostics). */
export class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly max = 16 * 1024) {}
  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    while (this.size > this.max && this.chunks.length > 1) {
      this.size -= this.chunks[0].length;
      this.chunks.shift();
    }
    if (this.size > this.max) {
      const only = this.chunks[0];
      this.chunks[0] = only.subarray(only.length - this.max);
      this.size = this.chunks[0].length;
    }
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
  clear(): void {
    this.chunks = [];
    this.size = 0;
  }
}

/** The last `max` bytes of a file as text ('' if unreadable). */
export function readTail(file: string, max: number): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const len = Math.min(size, max);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
