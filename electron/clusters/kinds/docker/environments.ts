// What the CLI's `env list` and `env import` need from the docker and swarm kinds: their environments in words,
// and a `jupyter docker-spec` kernelspec (provisioner "docker-provisioner", or "docker-swarm-provisioner" with
// --swarm; the image in metadata.kernel_provisioner.config.image_name) read into an environment record. The
// swarm kind takes the same editor with its own provisioner name (dockerEnvironments(SWARM_PROVISIONER_NAME)).
import type { SettingItem } from '../../../host-api/models';
import { DOCKER_PROVISIONER_NAME } from '../../../../provisioners/docker/docker-provisioner';
import { GP_LAUNCHER } from '../../../../provisioners/docker/gp-image-provisioner';
import { SWARM_PROVISIONER_NAME } from '../../../../provisioners/docker/swarm-provisioner';
import type { StoredCluster } from '../../config-base';
import type { KernelSpecImport, KindEnvironments } from '../types';
import { environmentNameOf } from '../ssh/environments-editor';
import { DEFAULT_DOCKER_LAUNCH_TIMEOUT_SEC, type DockerEngineConfig, type DockerEnvironment } from './config';

const DEFAULT_ENVIRONMENT = 'python3';
const DOCKER_SPEC_NAMES = [DOCKER_PROVISIONER_NAME, SWARM_PROVISIONER_NAME];
// Config keys of GP's container provisioners that have no counterpart here, and why.
const NOT_USED: Record<string, string> = {
  executor_image_name: 'Spark executors are not run by Docker clusters',
};

type DockerKindConfig = StoredCluster & DockerEngineConfig;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

function line(e: DockerEnvironment, cfg: DockerEngineConfig): string {
  const parts = [
    `${e.displayName} (${e.language})`,
    `image ${e.image ?? `${cfg.image} (the cluster's)`}`,
    e.launcher
      ? `the image's own command (Gateway Provisioners bootstrap)${e.argv ? `: ${e.argv.join(' ')}` : ''}`
      : e.argv
        ? `argv ${e.argv.join(' ')}`
        : `python ${e.python ?? `${cfg.python} (the cluster's)`}`,
    `launch timeout ${e.launchTimeoutSec ?? cfg.launchTimeoutSec ?? DEFAULT_DOCKER_LAUNCH_TIMEOUT_SEC} s`,
  ];
  const cpus = e.cpus ?? cfg.cpus;
  const memory = e.memory ?? cfg.memory;
  if (cpus !== undefined) parts.push(`${cpus} CPUs`);
  if (memory) parts.push(`memory ${memory}`);
  if (e.gpus ?? cfg.gpus) parts.push(`GPUs ${e.gpus ?? cfg.gpus}`);
  if (e.env) parts.push(`env ${Object.keys(e.env).join(', ')}`);
  return parts.join('; ');
}

/** A parsed `jupyter docker-spec` kernel.json -> an environment record, with what was used and what was not. */
export function fromDockerKernelSpec(
  spec: unknown,
  opts: { dirName: string; name?: string; cfg: DockerEngineConfig },
  ownProvisioner: string,
): KernelSpecImport {
  if (!isRecord(spec)) throw new Error('a kernel.json holds one JSON object');
  const meta = isRecord(spec.metadata) ? spec.metadata : {};
  const kp = isRecord(meta.kernel_provisioner) ? meta.kernel_provisioner : {};
  const provisioner = text(kp.provisioner_name);
  if (!provisioner || !DOCKER_SPEC_NAMES.includes(provisioner))
    throw new Error(
      `${provisioner ? `it names the provisioner "${provisioner}"` : 'it names no provisioner'}: only container kernelspecs (provisioner ${DOCKER_SPEC_NAMES.map((n) => `"${n}"`).join(' or ')}, from jupyter docker-spec install) are imported`,
    );
  const config = isRecord(kp.config) ? kp.config : {};
  const language = text(spec.language) ?? 'python';
  // config.launcher "gateway-provisioners" (added by hand: GP's CLI does not write it) says the image carries
  // GP's bootstrap; the Docker kind runs it as the image's own command. A Swarm cannot (swarm-cluster.ts).
  const gp = config.launcher === GP_LAUNCHER && ownProvisioner !== SWARM_PROVISIONER_NAME;
  // The app runs ipykernel in the image itself; another language needs its own argv, which GP's spec lacks.
  if (!gp && language.toLowerCase() !== 'python')
    throw new Error(
      `its language is ${language}: the app starts Python (ipykernel) in the image; a ${language} kernel needs an argv with {connection_file}, which a docker-spec does not have`,
    );
  const name = opts.name ?? environmentNameOf(opts.dirName);
  const displayName = text(spec.display_name) ?? name;
  const lang = gp ? language : 'python';
  const item: SettingItem = { name, displayName, language: lang, ...(gp ? { launcher: GP_LAUNCHER } : {}) };
  const imported = [`name ${name}`, `display name "${displayName}"`, `language ${lang}`];
  const ignored: string[] = [];
  if (gp)
    imported.push(
      `launcher ${GP_LAUNCHER}: the image's own command (its bootstrap) runs with KERNEL_ID, KERNEL_LANGUAGE, RESPONSE_ADDRESS, PUBLIC_KEY, PORT_RANGE`,
    );
  else if (config.launcher !== undefined)
    ignored.push(`config.launcher: a Swarm runs our launcher, not an image's Gateway Provisioners bootstrap`);
  if (provisioner !== ownProvisioner)
    imported.push(
      `written for ${provisioner}; here it runs as ${ownProvisioner === SWARM_PROVISIONER_NAME ? 'one Swarm service' : 'one container'} per kernel`,
    );
  const image = text(config.image_name) ?? text(config.image);
  if (image) {
    item.image = image;
    imported.push(`image ${image}`);
  } else imported.push(`image: the cluster's (${opts.cfg.image}); the kernelspec names none`);
  if (typeof config.launch_timeout === 'number' && config.launch_timeout > 0) {
    item.launchTimeoutSec = config.launch_timeout;
    imported.push(`launch timeout ${config.launch_timeout} s`);
  }
  for (const k of Object.keys(config))
    if (!['image_name', 'image', 'launch_timeout', 'launcher'].includes(k))
      ignored.push(`config.${k}: ${NOT_USED[k] ?? 'not a setting of container environments here'}`);
  if (Array.isArray(spec.argv))
    ignored.push(
      `argv ${spec.argv.map(String).join(' ')}: Gateway Provisioners' launch_docker.py makes the container from the Gateway's host; here the app makes it and ${gp ? "runs the image's own command" : `runs ipykernel with the image's Python (${opts.cfg.python}, the cluster's)`}`,
    );
  if (isRecord(spec.env)) {
    const env = Object.fromEntries(
      Object.entries(spec.env).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
    const skipped = Object.keys(spec.env).filter((k) => !(k in env));
    if (Object.keys(env).length) {
      item.env = env;
      imported.push(`env ${Object.keys(env).join(', ')}`);
    }
    if (skipped.length) ignored.push(`env ${skipped.join(', ')}: values that are not strings`);
  }
  if (spec.interrupt_mode !== undefined && spec.interrupt_mode !== 'signal')
    ignored.push(`interrupt_mode "${String(spec.interrupt_mode)}": interrupts go to the launcher as signals`);
  for (const k of Object.keys(meta))
    if (k !== 'kernel_provisioner') ignored.push(`metadata.${k}: not used for container environments`);
  if (name === DEFAULT_ENVIRONMENT) ignored.push(`the name "${name}" will be refused: give another NAME`);
  return { item, imported, ignored };
}

/** The environments editor of a container kind whose kernelspecs name `ownProvisioner`. */
export function dockerEnvironments<C extends DockerKindConfig>(ownProvisioner: string): KindEnvironments<C> {
  return {
    field: 'environments',
    describe: (cfg) => [
      {
        name: DEFAULT_ENVIRONMENT,
        detail: line(
          { name: DEFAULT_ENVIRONMENT, displayName: `Python 3 on ${cfg.name}`, language: 'python' },
          cfg,
        ),
        builtIn: true,
      },
      ...(cfg.environments ?? []).map((e) => ({ name: e.name, detail: line(e, cfg), builtIn: false })),
    ],
    fromKernelSpec: (spec, opts) => fromDockerKernelSpec(spec, opts, ownProvisioner),
  };
}

/** Stored environments -> the records `env` commands edit (copies: the caller may change them). */
export function dockerEnvironmentItems(envs: readonly DockerEnvironment[] | undefined): SettingItem[] {
  return (envs ?? []).map((e) => ({
    ...e,
    ...(e.argv ? { argv: [...e.argv] } : {}),
    ...(e.volumes ? { volumes: [...e.volumes] } : {}),
    ...(e.env ? { env: { ...e.env } } : {}),
  }));
}
