// The app's log: a bounded ring of entries that the UI can read and follow. Also echoes to a sink
// (stderr in serve mode) so headless runs keep a trace.
import type { LogEntry, LogLevel } from './models';

export class AppLog {
  private readonly entries: LogEntry[] = [];
  private seq = 0;
  private readonly listeners = new Set<(e: LogEntry) => void>();

  constructor(
    private readonly capacity = 1000,
    private readonly sink: ((e: LogEntry) => void) | null = null,
  ) {}

  /** `echo: false` for lines already printed elsewhere (e.g. by app-core at startup). */
  write(level: LogLevel, source: string, message: string, echo = true): LogEntry {
    const entry: LogEntry = { seq: ++this.seq, time: new Date().toISOString(), level, source, message };
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    if (echo) this.sink?.(entry);
    for (const l of [...this.listeners]) {
      try {
        l(entry);
      } catch {
        // a listener failing must not break logging
      }
    }
    return entry;
  }

  info(source: string, message: string): void {
    this.write('info', source, message);
  }
  warn(source: string, message: string): void {
    this.write('warn', source, message);
  }
  error(source: string, message: string): void {
    this.write('error', source, message);
  }

  list(): LogEntry[] {
    return [...this.entries];
  }

  onEntry(listener: (e: LogEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
