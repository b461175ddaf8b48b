// Small helpers of the kernel manager.

// Awaited steps of an operation keep the event loop alive (ref'd timers); only background timers are unref'd.
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A promise that can be woken early; used to wait for replies, iopub traffic, exits or aborts. */
export class Waker {
  private resolvers = new Set<() => void>();
  wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.resolvers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.resolvers.add(done);
    });
  }
  wake(): void {
    for (const r of [...this.resolvers]) r();
  }
}
