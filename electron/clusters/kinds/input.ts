// ClusterInput (the host API's add/edit/test input) through the one validator. The host service checks with
// it (the form shows its fieldErrors), the app-core backend builds the config it saves with it.
import type { StoredCluster } from '../config-base';
import type { ClusterInput, SettingsValues } from '../../host-api/models';
import { clusterKinds } from '.';
import type { ClusterCheck, ClusterKindRegistry } from './registry';
import type { BuildContext } from './types';

/** The settings values of an input (the gateway form's shape is the gateway kind's values). */
export function settingsOf(input: ClusterInput): SettingsValues {
  return input.settings ?? (input.gateway as unknown as SettingsValues | undefined) ?? {};
}

/** Secrets are not touched while checking: any given value stands for a set secret. */
const checkingSecrets: BuildContext['secret'] = (_f, key, value, had) =>
  value === undefined ? had : value === '' ? undefined : key;

/** Check an input without saving anything: field -> message, empty when valid. */
export function checkClusterInput(
  input: ClusterInput,
  opts: { id?: string; prev?: StoredCluster | null; kinds?: ClusterKindRegistry } = {},
): Record<string, string> {
  const r = buildCluster(
    input,
    { id: opts.id ?? 'checking', prev: opts.prev ?? null, secret: checkingSecrets },
    opts.kinds,
  );
  return r.ok ? {} : r.check.fieldErrors;
}

export function buildCluster(
  input: ClusterInput,
  ctx: Omit<BuildContext, 'name'>,
  kinds: ClusterKindRegistry = clusterKinds,
): { ok: true; config: StoredCluster } | { ok: false; check: ClusterCheck } {
  return kinds.fromSettings({ kind: input.kind, name: input.name, values: settingsOf(input) }, ctx);
}
