// Idle culling for kinds whose kernels this app provisions (local, SSH, containers): Jupyter Server's
// MappingKernelManager settings under its own names, stored in a cluster's config as `culling`, the settings
// fields that edit them (form, `cluster add`/`cluster set`), their checks, and the policy the kernel registry
// enforces (electron/kernels/culler.ts). A kind adds culling in a few lines: spread CULL_FIELDS into its
// fields, `culling: cullingSchema` into its schema, and use cullingOf / cullingValues / checkCulling.
import type { JSONSchemaType } from 'ajv';
import type { KindFieldInfo, SettingsValues } from '../../host-api/models';
import type { FieldProblem } from './types';

/** As Jupyter Server names them (c.MappingKernelManager.cull_*). */
export interface CullingConfig {
  /** Seconds of inactivity after which a kernel is culled; 0 turns culling off. */
  cull_idle_timeout: number;
  /** Seconds between checks (Jupyter's default 300). */
  cull_interval?: number;
  /** Cull kernels that have clients connected (default false). */
  cull_connected?: boolean;
  /** Cull kernels that are busy (default false). */
  cull_busy?: boolean;
}

/** What the registry enforces for one cluster's kernels (absent culling: null). */
export interface CullPolicy {
  idleTimeoutMs: number;
  intervalMs: number;
  connected: boolean;
  busy: boolean;
}

export const DEFAULT_CULL_INTERVAL_SEC = 300;

export const cullingSchema: JSONSchemaType<CullingConfig> = {
  type: 'object',
  properties: {
    cull_idle_timeout: { type: 'number', minimum: 0 },
    cull_interval: { type: 'number', exclusiveMinimum: 0, nullable: true },
    cull_connected: { type: 'boolean', nullable: true },
    cull_busy: { type: 'boolean', nullable: true },
  },
  required: ['cull_idle_timeout'],
  additionalProperties: false,
};

const FIELD_OF: Record<string, string> = {
  cull_idle_timeout: 'cullIdleTimeout',
  cull_interval: 'cullInterval',
  cull_connected: 'cullConnected',
  cull_busy: 'cullBusy',
};

export const CULL_FIELDS: readonly KindFieldInfo[] = [
  {
    key: 'cullIdleTimeout',
    label: 'Shut down idle kernels after (seconds)',
    help: 'cull_idle_timeout: shut a kernel down once it was inactive this long (0: never)',
    type: 'seconds',
    default: 0,
    section: 'advanced',
    form: { id: 'cf-cull-idle-timeout', help: 'As Jupyter Server’s cull_idle_timeout. 0 or empty: never.' },
    cli: { flag: 'cull-idle-timeout', arg: 'S' },
  },
  {
    key: 'cullInterval',
    label: 'Check for idle kernels every (seconds)',
    help: `cull_interval: how often idle kernels are looked for (default ${DEFAULT_CULL_INTERVAL_SEC})`,
    type: 'seconds',
    default: DEFAULT_CULL_INTERVAL_SEC,
    section: 'advanced',
    form: { id: 'cf-cull-interval' },
    cli: { flag: 'cull-interval', arg: 'S' },
  },
  {
    key: 'cullConnected',
    label: 'Also shut down idle kernels a client is connected to',
    help: 'cull_connected: cull idle kernels even with a notebook or console connected',
    type: 'boolean',
    default: false,
    section: 'advanced',
    form: { id: 'cf-cull-connected' },
    cli: { flag: 'cull-connected' },
  },
  {
    key: 'cullBusy',
    label: 'Also shut down busy kernels',
    help: 'cull_busy: cull kernels that are still running code once inactive that long',
    type: 'boolean',
    default: false,
    section: 'advanced',
    form: { id: 'cf-cull-busy' },
    cli: { flag: 'cull-busy' },
  },
];

const num = (v: unknown): number | undefined =>
  typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : undefined;

/** Settings values -> the stored `culling` (undefined: off and nothing else set). */
export function cullingOf(values: SettingsValues): CullingConfig | undefined {
  const timeout = num(values.cullIdleTimeout) ?? 0;
  const interval = num(values.cullInterval);
  const connected = values.cullConnected === true;
  const busy = values.cullBusy === true;
  const defaultInterval = interval === undefined || interval === DEFAULT_CULL_INTERVAL_SEC;
  if (!timeout && defaultInterval && !connected && !busy) return undefined;
  return {
    cull_idle_timeout: timeout,
    ...(interval !== undefined && !defaultInterval ? { cull_interval: interval } : {}),
    ...(connected ? { cull_connected: true } : {}),
    ...(busy ? { cull_busy: true } : {}),
  };
}

/** The stored `culling` -> settings values (for the form and `cluster set`). */
export function cullingValues(c: CullingConfig | undefined): SettingsValues {
  return {
    cullIdleTimeout: c?.cull_idle_timeout ?? 0,
    cullInterval: c?.cull_interval ?? DEFAULT_CULL_INTERVAL_SEC,
    cullConnected: c?.cull_connected === true,
    cullBusy: c?.cull_busy === true,
  };
}

/** Checks beyond the schema, in words for people. */
export function checkCulling(c: CullingConfig | undefined): FieldProblem[] {
  if (!c) return [];
  const out: FieldProblem[] = [];
  if (!Number.isFinite(c.cull_idle_timeout) || c.cull_idle_timeout < 0)
    out.push({ field: 'cullIdleTimeout', message: 'The idle timeout is a number of seconds, 0 for never.' });
  if (c.cull_interval !== undefined && !(Number.isFinite(c.cull_interval) && c.cull_interval > 0))
    out.push({ field: 'cullInterval', message: 'The check interval is a positive number of seconds.' });
  return out;
}

/** A schema error's path inside `culling` -> its field ('' when the path is not about culling). */
export function cullingFieldOfPath(path: string): string {
  const m = /^\/culling(?:\/(\w+))?/.exec(path);
  return m ? (FIELD_OF[m[1] ?? ''] ?? 'cullIdleTimeout') : '';
}

/** The policy the registry enforces; null when culling is off. */
export function cullPolicyOf(c: CullingConfig | undefined): CullPolicy | null {
  if (!c || !(c.cull_idle_timeout > 0)) return null;
  return {
    idleTimeoutMs: c.cull_idle_timeout * 1000,
    intervalMs: (c.cull_interval ?? DEFAULT_CULL_INTERVAL_SEC) * 1000,
    connected: c.cull_connected === true,
    busy: c.cull_busy === true,
  };
}
