// `npm run cluster -- set NAME --username U`: change a gateway cluster's username after it was added;
// `set NAME --cull-idle-timeout S ...`: idle culling of a cluster whose kernels the app runs. A running app
// picks either up through the store's file watch, like every other change.
import type { ClusterStore } from '../clusters/store';
import { StoreError } from '../clusters/store';
import { gatewayKind } from '../clusters/kinds/gateway';
import { clusterKinds } from '../clusters/kinds';

/** Set (or, with '', clear) the cluster's KERNEL_USERNAME; returns the line to print. */
export function setKernelUsername(store: ClusterStore, name: string, username: string): string {
  const c = store.require(name);
  if (!gatewayKind.is(c))
    throw new StoreError(`"${c.name}" runs kernels on this computer; it has no username`);
  const user = username.trim();
  if (/\s/.test(user)) throw new StoreError(`--username "${username}": a user name has no spaces`);
  const next = { ...c };
  if (user) next.kernelUsername = user;
  else delete next.kernelUsername;
  store.update(next);
  return user
    ? `"${c.name}" now starts kernels as "${user}" (KERNEL_USERNAME) and lists the kernelspecs "${user}" may use.`
    : `"${c.name}" has no username now: kernels start as the user the Jupyter client sends, else ${c.basicAuth?.user ? `"${c.basicAuth.user}" (the HTTP user)` : 'your user name on this computer'}.`;
}

export interface CullFlags {
  'cull-idle-timeout'?: string;
  'cull-interval'?: string;
  'cull-connected'?: boolean;
  'no-cull-connected'?: boolean;
  'cull-busy'?: boolean;
  'no-cull-busy'?: boolean;
}

export const CULL_FLAG_NAMES: readonly (keyof CullFlags)[] = [
  'cull-idle-timeout',
  'cull-interval',
  'cull-connected',
  'no-cull-connected',
  'cull-busy',
  'no-cull-busy',
];

function secondsFlag(flag: string, v: string, zero: boolean): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || (!zero && n === 0))
    throw new StoreError(
      `--${flag} must be ${zero ? 'a number of seconds (0: never)' : 'a positive number of seconds'}, not "${v}"`,
    );
  return n;
}

/**
 * `set NAME --cull-idle-timeout S [--cull-interval S] [--[no-]cull-connected] [--[no-]cull-busy]`: idle culling
 * of a cluster whose kernels the app provisions, through its kind's fields and the one validator (as the form).
 */
export function setCulling(store: ClusterStore, name: string, o: CullFlags): string {
  const c = store.require(name);
  const kind = clusterKinds.of(c);
  if (!kind.culling)
    throw new StoreError(
      `"${c.name}" (${kind.label}) culls its kernels itself (the gateway's own cull_idle_timeout); the app does not cull them`,
    );
  const values = { ...kind.values(c) };
  if (o['cull-idle-timeout'] !== undefined)
    values.cullIdleTimeout = secondsFlag('cull-idle-timeout', o['cull-idle-timeout'], true);
  if (o['cull-interval'] !== undefined)
    values.cullInterval = secondsFlag('cull-interval', o['cull-interval'], false);
  if (o['cull-connected'] || o['no-cull-connected']) values.cullConnected = o['cull-connected'] === true;
  if (o['cull-busy'] || o['no-cull-busy']) values.cullBusy = o['cull-busy'] === true;
  // Secrets stay as saved: only culling changes here.
  const r = clusterKinds.fromSettings(
    { kind: c.kind, name: c.name, values },
    { id: c.id, prev: c, secret: (_f, _k, _v, had) => had },
  );
  if (!r.ok) throw new StoreError(r.check.problems.join('; '));
  store.update(r.config as typeof c);
  const p = kind.culling(r.config);
  return p
    ? `"${c.name}" now shuts down kernels idle for ${p.idleTimeoutMs / 1000} s, checked every ${p.intervalMs / 1000} s` +
        `${p.connected ? ', connected ones too' : ' (not while a client is connected)'}${p.busy ? ', busy ones too' : ' (not while busy)'}.`
    : `"${c.name}" does not cull idle kernels.`;
}
