// The last line of defence for a process that hosts kernels (serve, the Electron main process): an error that
// nothing caught is logged and the process keeps serving. Dying would take every kernel and every client with
// it, for what is almost always one request's or one socket's failure.

let installed = false;

function describe(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return String(err);
}

/** Install once per process; later calls do nothing. `log` gets one line (with the stack) per error. */
export function installLastResortHandlers(log: (line: string) => void): void {
  if (installed) return;
  installed = true;
  const report = (kind: string, err: unknown): void => {
    try {
      log(`${kind} (kept running; please report this): ${describe(err)}`);
    } catch {
      // the log itself failed (closed stderr): nothing more to do
    }
  };
  process.on('uncaughtException', (err) => report('uncaught exception', err));
  process.on('unhandledRejection', (reason) => report('unhandled promise rejection', reason));
}
