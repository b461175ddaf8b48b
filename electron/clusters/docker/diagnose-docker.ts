// "Test connection" for a Docker cluster: ask the engine for its version as a kernel start would (same host,
// TLS files, socket), then whether the cluster's images are there. Each failure says what was seen and what to
// do: no engine at the socket, permission denied on it, refused or unknown host, TLS problems, an API too old.
import type Docker from 'dockerode';
import { statusOf, engineWords } from '../../../provisioners/docker/container-io';
import { describeEngine, effectiveHost, engineClient } from '../../../provisioners/docker/engine';
import type { Diagnosis, DiagnosisCode } from '../diagnose';
import { engineSettingsOf, type DockerEngineConfig } from '../kinds/docker/config';
import { dockerKernelSpecs } from './docker-environments';

/** Device requests (GPUs) need API 1.40 (Docker 19.03). */
const MIN_API = [1, 40];

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

type Problem = Pick<Diagnosis, 'code' | 'title' | 'detail' | 'hint'>;

/** What an engine call's failure means, in words a user acts on. */
export function engineProblem(err: unknown, engine: string): Problem {
  const e = err as NodeJS.ErrnoException & { statusCode?: number };
  const words = engineWords(err);
  const detail = `${e.code ? `${e.code}: ` : ''}${words}`;
  const p = (code: DiagnosisCode, title: string, hint: string): Problem => ({ code, title, detail, hint });
  if (e.code === 'ENOENT')
    return p(
      'refused',
      `${cap(engine)} is not running (no socket there)`,
      "Start Docker (Docker Desktop, or `sudo systemctl start docker`), or set the host to the engine's socket or address.",
    );
  if (e.code === 'EACCES' || e.code === 'EPERM')
    return p(
      'forbidden',
      `Permission denied on the socket of ${engine}`,
      'Your user may not use this socket: add it to the docker group (`sudo usermod -aG docker $USER`, then log in again), or use rootless Docker and its socket (unix://$XDG_RUNTIME_DIR/docker.sock).',
    );
  if (e.code === 'ECONNREFUSED')
    return p(
      'refused',
      `${cap(engine)} refused the connection`,
      'Check the host and port, and that dockerd listens there (-H tcp://0.0.0.0:2376 with --tlsverify).',
    );
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN')
    return p('dns', `Cannot resolve the host of ${engine}`, 'Check the host name, or use its IP address.');
  if (
    e.code === 'ETIMEDOUT' ||
    e.code === 'EHOSTUNREACH' ||
    e.code === 'ENETUNREACH' ||
    /timed out/i.test(words)
  )
    return p(
      'timeout',
      `${cap(engine)} did not answer`,
      'Check that the host is up and reachable from here (VPN, firewall).',
    );
  if (/HTTP request to an HTTPS server/i.test(words))
    return p(
      'tls',
      `${cap(engine)} speaks TLS`,
      'Give the CA, client certificate and key files (dockerd --tlsverify), usually port 2376.',
    );
  if (/certificate|CERT_|self.signed|SSL|EPROTO|alert|wrong version number/i.test(`${e.code ?? ''} ${words}`))
    return p(
      'tls',
      `TLS with ${engine} failed`,
      "Check the CA file (it must have signed the engine's certificate), the client certificate and key (signed by a CA the engine trusts), and that the engine's certificate names this host. An engine without TLS listens on 2375 and needs no TLS files.",
    );
  if (/client version .* too (new|old)|API version/i.test(words))
    return p(
      'http-error',
      `${cap(engine)} speaks another API version`,
      'Update Docker on the engine (19.03 or later is needed), or ask its administrator.',
    );
  if (statusOf(err) !== undefined)
    return p('http-error', `${cap(engine)} answered HTTP ${statusOf(err)}`, "See the engine's words above.");
  return p('network', `Cannot reach ${engine}`, 'Check the Docker host setting.');
}

function older(v: string, min: number[]): boolean {
  const [a = 0, b = 0] = v.split('.').map(Number);
  return a < min[0]! || (a === min[0] && b < min[1]!);
}

export async function diagnoseDocker(
  cfg: DockerEngineConfig & { name: string },
  opts: { timeoutMs?: number } = {},
): Promise<Diagnosis> {
  const t0 = Date.now();
  const settings = engineSettingsOf(cfg);
  const engine = describeEngine(settings);
  const url = effectiveHost(settings);
  const out = (ok: boolean, severity: Diagnosis['severity'], p: Problem): Diagnosis => ({
    ok,
    severity,
    url,
    elapsedMs: Date.now() - t0,
    ...p,
  });
  let docker: Docker;
  try {
    docker = engineClient(settings);
  } catch (err) {
    return out(false, 'error', {
      code: 'config',
      title: 'The Docker settings cannot be used',
      detail: String((err as Error).message),
      hint: 'Fix the host or the TLS file paths.',
    });
  }
  let version: Docker.DockerVersion;
  try {
    version = await Promise.race([
      docker.version(),
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
          opts.timeoutMs ?? 10_000,
        ).unref(),
      ),
    ]);
  } catch (err) {
    return out(false, 'error', engineProblem(err, engine));
  }
  const about = `Docker ${version.Version} (API ${version.ApiVersion}, ${version.Os}/${version.Arch})`;
  if (older(version.ApiVersion, MIN_API))
    return out(false, 'error', {
      code: 'http-error',
      title: `${cap(engine)} is too old`,
      detail: about,
      hint: `This app needs Docker API ${MIN_API.join('.')} (Docker 19.03) or later: update Docker on the engine.`,
    });
  const images = [
    ...new Set(
      dockerKernelSpecs(cfg).map((s) =>
        String(s.spec.metadata?.kernel_provisioner?.config?.image ?? cfg.image),
      ),
    ),
  ];
  const missing: string[] = [];
  for (const image of images) {
    try {
      await docker.getImage(image).inspect();
    } catch (err) {
      if (statusOf(err) === 404) missing.push(image);
      else return out(false, 'error', engineProblem(err, engine));
    }
  }
  if (missing.length)
    return out(true, 'warning', {
      code: 'config',
      title: `${cap(engine)} answers, but lacks ${missing.length > 1 ? 'images' : 'the image'} ${missing.join(', ')}`,
      detail: about,
      hint:
        cfg.pull === 'never'
          ? 'This cluster does not pull images: load them on the engine (docker pull / load / build) before starting kernels.'
          : 'The first start pulls it (the launch timeout counts the pull); or pull it on the engine now.',
    });
  return out(true, 'ok', {
    code: 'ok',
    title: `Connected to ${engine}`,
    detail: `${about}; images present: ${images.join(', ')}`,
    hint: '',
  });
}
