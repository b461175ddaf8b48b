// The `local` cluster kind: kernels run on this computer, started by the local provisioner ("This computer"
// is one, built in; `cluster add local NAME --kernelspec-dir D` adds others with their own kernelspec dirs).
import { stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { ConnectionInfo } from '../../../../provisioners/types';
import type { StoredCluster } from '../../config-base';
import { LocalCluster, isKernelProcess, stopKeptLocalKernel, type LocalKept } from '../../local-cluster';
import type { ClusterKindDescriptor, KeptDetails } from '../types';
import { localSchema, type LocalClusterConfig } from './config';
import { launchParameter } from '../launch-parameters';
import {
  CULL_FIELDS,
  checkCulling,
  cullPolicyOf,
  cullingFieldOfPath,
  cullingOf,
  cullingValues,
} from '../culling';

export type { LocalClusterConfig } from './config';

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

function parseConnection(v: unknown): ConnectionInfo | null {
  if (!isObj(v)) return null;
  const ports = ['shell_port', 'iopub_port', 'stdin_port', 'control_port', 'hb_port'] as const;
  if (!isStr(v.ip) || !isStr(v.key) || !isStr(v.transport) || !isStr(v.signature_scheme)) return null;
  if (!ports.every((p) => isInt(v[p]))) return null;
  return v as unknown as ConnectionInfo;
}

function parseKept(v: KeptDetails): LocalKept | null {
  const connection = parseConnection(v.connection);
  if (!isInt(v.pid) || !connection) return null;
  return {
    kind: 'local',
    pid: v.pid,
    pgid: isInt(v.pgid) ? v.pgid : v.pid,
    connection,
    connectionFile: isStr(v.connectionFile) ? v.connectionFile : null,
    logFile: isStr(v.logFile) ? v.logFile : null,
  };
}

export const localKind: ClusterKindDescriptor<LocalClusterConfig> = {
  kind: 'local',
  label: 'Local kernels',
  summary: 'another "this computer" cluster with its own kernelspec dirs',
  remote: false,
  addableFromForm: false,
  intro:
    'Kernels run on this computer, from the kernelspecs in the Jupyter data paths and these directories.',
  schema: localSchema,
  fields: [
    {
      key: 'kernelspecDirs',
      label: 'Kernelspec directories',
      help: 'extra kernelspec directory searched besides the Jupyter data paths',
      type: 'list',
      default: [],
      section: 'connection',
      cli: { flag: 'kernelspec-dir', arg: 'D' },
    },
    ...CULL_FIELDS,
  ],
  is: (cfg: StoredCluster): cfg is LocalClusterConfig => cfg.kind === 'local',
  build: (values, ctx) => {
    const dirs = (Array.isArray(values.kernelspecDirs) ? values.kernelspecDirs : []).filter(
      (d): d is string => typeof d === 'string',
    );
    const culling = cullingOf(values);
    return {
      id: ctx.id,
      name: ctx.name,
      kind: 'local',
      enabled: ctx.prev?.enabled ?? true,
      ...(dirs.length ? { kernelspecDirs: dirs } : {}),
      ...(culling ? { culling } : {}),
    };
  },
  values: (c) => ({ kernelspecDirs: [...(c.kernelspecDirs ?? [])], ...cullingValues(c.culling) }),
  secretsSet: () => ({}),
  check: (c) => checkCulling(c.culling),
  fieldOfPath: (p) => cullingFieldOfPath(p) || 'kernelspecDirs',
  secretKeys: () => [],
  where: () => 'kernels on this computer',
  url: () => null,
  launchSettings: () => ({}),
  culling: (c) => cullPolicyOf(c.culling),
  // Local kernels get KERNEL_* in their env; only these two change how the app starts them.
  launchParameters: (_c, env) => [
    launchParameter('KERNEL_WORKING_DIR', [env.env], {
      help: "Directory the kernel starts in (default: the app's own)",
    }),
    launchParameter('KERNEL_LAUNCH_TIMEOUT', [env.env], { help: 'Seconds the start may take', more: true }),
  ],
  // The start would silently fall back to the app's directory (a client's notebook dir need not exist here):
  // a person who typed one is told instead.
  async checkLaunchParameters(_c, _env, values) {
    const dir = values.KERNEL_WORKING_DIR;
    if (!dir || !path.isAbsolute(dir)) return [];
    const st = await stat(dir).catch(() => null);
    return st?.isDirectory()
      ? []
      : [
          {
            field: 'KERNEL_WORKING_DIR',
            message: `KERNEL_WORKING_DIR: there is no directory ${dir} on this computer`,
          },
        ];
  },
  createRuntime: (cfg, opts) => {
    const dirs = cfg.kernelspecDirs?.length ? cfg.kernelspecDirs : opts.localKernelSpecDirs;
    return new LocalCluster({
      id: cfg.id,
      name: cfg.name,
      ...(dirs ? { kernelSpecDirs: dirs } : {}),
      survivesApp: opts.localKernelsSurviveApp === true,
    });
  },
  diagnose: async (cfg) => ({
    ok: true,
    severity: 'ok',
    code: 'ok',
    title: `${cfg.name} runs kernels on this computer`,
    detail: 'Nothing to test: no network is involved.',
    hint: '',
    url: '',
    elapsedMs: 0,
  }),
  kept: {
    parse: parseKept,
    async drop(kernelId, details) {
      const d = parseKept(details);
      if (!d) return '';
      // Still running but unusable (spec gone, not answering): stop it rather than leave an invisible orphan.
      if (isKernelProcess(d.pid, d.connectionFile)) {
        const stopped = await stopKeptLocalKernel(kernelId, d).catch(() => false);
        return stopped ? '; its process was stopped' : '; its process could not be stopped';
      }
      for (const f of [d.connectionFile, d.logFile]) if (f) await unlink(f).catch(() => undefined);
      return '';
    },
  },
};
