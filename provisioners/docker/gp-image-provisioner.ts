// A kernel in a container whose image carries Gateway Provisioners' bootstrap (reference §1.5, §2.1): the
// container runs the IMAGE'S OWN command (its entrypoint/CMD, e.g. bootstrap-kernel.sh, or the environment's
// argv) with GP's env contract, KERNEL_ID, KERNEL_LANGUAGE, RESPONSE_ADDRESS, PUBLIC_KEY, PORT_RANGE, plus the
// KERNEL_* launch variables. Its launcher makes the kernel's key and ports and sends them, RSA/AES-wrapped
// (payload v1), to the cluster's response listener; only the public key is in the container's env. Everything
// else (image check, create, labels, resources, signals and shutdown through the comm port, poll, cleanup that
// removes the container, Leave running) is DockerProvisioner's.
import type Docker from 'dockerode';
import { abortError } from '../abort';
import type { V1Payload } from '../remote/payload-v1';
import type { LauncherReport } from '../remote/launcher-protocol';
import type { V1ResponseListener } from '../remote/response-listener';
import type { ConnectionInfo, LaunchBounds } from '../types';
import { kernelContainerOptions } from './container-spec';
import { DockerProvisioner } from './docker-provisioner';
import type { DockerKernelHost } from './docker-host';

/** `metadata.kernel_provisioner.config.launcher` of an environment whose image brings GP's bootstrap. */
export const GP_LAUNCHER = 'gateway-provisioners';

/** Whether a kernelspec's provisioner config asks for the image's own GP bootstrap. */
export function isGpImageConfig(config: Record<string, unknown>): boolean {
  return config.launcher === GP_LAUNCHER;
}

/** `{kernel_id}`-style placeholders of a GP kernelspec argv (§3.1), filled from the launch's values. */
function fillPlaceholders(argv: string[], values: Record<string, string>): string[] {
  return argv.map((a) => a.replace(/\{([A-Za-z0-9_]+)\}/g, (m, n: string) => values[n] ?? m));
}

/**
 * Where a container reaches this computer's response listener. Only a host-network container on this
 * computer's engine shares our loopback; anything else needs an address routed back here (not built yet).
 */
function responseAddressFor(host: DockerKernelHost, listener: V1ResponseListener): string {
  if (host.networkMode === 'host' && host.address.kind === 'unix' && !host.kernelAddress)
    return `127.0.0.1:${listener.port}`;
  throw new Error(
    `Images with Gateway Provisioners' bootstrap run only on a local engine with network "host" for now: ` +
      `their launcher connects back to this computer's response address, which ${host.where} ` +
      `(${host.engine}, network ${host.networkMode}) cannot reach. Use our launcher (remove "launcher") instead.`,
  );
}

export class GpImageProvisioner extends DockerProvisioner {
  override async launch(bounds: LaunchBounds): Promise<ConnectionInfo> {
    const listen = this.host.responses;
    if (!listen)
      throw new Error(`${this.host.where} has no response listener for Gateway Provisioners images`);
    const listener = await listen();
    const responseAddress = responseAddressFor(this.host, listener);
    const { r, env: base } = await this.prepare(bounds);
    const range = this.host.portRange;
    const portRange = range ? `${range.lo}..${range.hi}` : '0..0';
    const env: Record<string, string> = {
      ...base,
      // GP's bootstrap-kernel.sh picks its launcher by these (python, r, scala: lower case).
      KERNEL_LANGUAGE: (base.KERNEL_LANGUAGE || 'python').toLowerCase(),
      RESPONSE_ADDRESS: responseAddress,
      PUBLIC_KEY: listener.publicKey,
      PORT_RANGE: portRange,
    };
    // The kernelspec's argv instead of the image's command (GP placeholders filled); empty: the image's own.
    const own = this.request().spec.spec.argv;
    const argv = own.length
      ? fillPlaceholders(own, {
          kernel_id: this.kernelId,
          response_address: responseAddress,
          public_key: listener.publicKey,
          port_range: portRange,
        })
      : undefined;
    // Waiting before the container starts: a payload nobody waits for is dropped.
    const waitCtl = new AbortController();
    const stopWaiting = (): void => waitCtl.abort(abortError());
    bounds.signal.addEventListener('abort', stopWaiting, { once: true });
    const payload = listener.waitFor(this.kernelId, waitCtl.signal);
    payload.catch(() => undefined);
    try {
      const container = await this.createKernelContainer(
        bounds,
        kernelContainerOptions({
          kernelId: this.kernelId,
          installId: this.host.installId,
          resources: r,
          command: { kind: 'image', ...(argv ? { argv } : {}) },
          networkMode: this.host.networkMode,
          env,
        }),
      );
      await this.startContainer(bounds, container);
      const p = await Promise.race([payload, this.exitBeforePayload(container, waitCtl.signal)]);
      if (bounds.signal.aborted) throw abortError();
      return await this.reported(bounds, container, this.reportOf(p), p.key);
    } finally {
      bounds.signal.removeEventListener('abort', stopWaiting);
      waitCtl.abort(); // ends the engine's wait on the container and a wait for a payload that never came
    }
  }

  /** Rejects when the container stops before its launcher reported (its exit code and last output). */
  private async exitBeforePayload(container: Docker.Container, signal: AbortSignal): Promise<never> {
    const ended = await container.wait({ condition: 'not-running', abortSignal: signal }).then(
      () => true,
      () => false,
    );
    if (!ended || signal.aborted) return new Promise<never>(() => undefined); // reported, or cancelled
    throw await this.exitedEarly(container);
  }

  private reportOf(p: V1Payload): LauncherReport {
    const pid = Number(p.pid);
    return {
      kernelId: this.kernelId,
      ip: p.ip,
      shellPort: p.shell_port,
      iopubPort: p.iopub_port,
      stdinPort: p.stdin_port,
      controlPort: p.control_port,
      hbPort: p.hb_port,
      commPort: p.comm_port,
      pid: Number.isInteger(pid) ? pid : 0,
      pgid: p.pgid ?? 0,
      log: '',
      launcherVersion: 'gateway-provisioners',
    };
  }
}
