// Stopping a kernel process: shutdown_request (then the provisioner's shutdownRequested hook), wait,
// terminate, wait, kill the whole group, cleanup.
import type { KernelProvisioner, WireMessage } from '../types';
import { errorMessage, sleep } from './util';

/** Kill the whole process group, wait for it, release the provisioner's resources. */
export async function killAndCleanup(
  provisioner: KernelProvisioner,
  log: (message: string) => void,
  restart: boolean,
): Promise<void> {
  try {
    if ((await provisioner.poll()) === null) {
      await provisioner.kill(restart);
      await provisioner.wait(5000);
    }
    // The leader may be gone while others in its group still run.
    await provisioner.kill(restart).catch(() => undefined);
    if (provisioner.processesAlive) {
      const deadline = Date.now() + 3000;
      while (provisioner.processesAlive() && Date.now() < deadline) await sleep(50);
      if (provisioner.processesAlive()) log('some processes of the kernel are still alive after SIGKILL');
    }
  } catch (err) {
    log(`kill failed: ${errorMessage(err)}`);
  }
  await provisioner.cleanup(restart).catch((err) => log(`cleanup failed: ${errorMessage(err)}`));
}

export interface StopHost {
  readonly provisioner: KernelProvisioner;
  /** The manager's own channels are open (a shutdown_request can be sent). */
  connected(): boolean;
  requestShutdown(restart: boolean, timeoutMs: number): Promise<WireMessage>;
  detach(): void;
  log(message: string): void;
}

/** shutdown_request, shutdownRequested, wait, terminate, wait, kill (the group), cleanup. */
export async function stopKernel(host: StopHost, restart: boolean, graceMs: number): Promise<void> {
  const { provisioner } = host;
  try {
    if ((await provisioner.poll()) === null && host.connected()) {
      const reply = host.requestShutdown(restart, graceMs).catch(() => undefined);
      if (provisioner.shutdownRequested) {
        await provisioner
          .shutdownRequested(restart)
          .catch((err) => host.log(`shutdownRequested failed: ${errorMessage(err)}`));
      }
      const exited = await provisioner.wait(graceMs);
      void reply;
      if (exited === null) {
        await provisioner.terminate(restart);
        await provisioner.wait(2000);
      }
    }
  } catch (err) {
    host.log(`graceful stop failed: ${errorMessage(err)}`);
  }
  host.detach();
  await killAndCleanup(provisioner, (m) => host.log(m), restart);
}
