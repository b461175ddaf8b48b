// The app-core backend's launch parameters: a cluster's stored config and its kind's declaration
// (ClusterKindDescriptor.launchParameters / checkLaunchParameters), for one environment whose kernelspec env
// gives the defaults. Clusters outside the store (a test's directory) declare nothing.
import type { ClusterDirectory } from '../clusters/directory';
import { clusterKinds } from '../clusters/kinds';
import type { LaunchEnvironment } from '../clusters/kinds/launch-parameters';
import type { ClusterStore } from '../clusters/store';
import { sizeOf } from '../clusters/sized-runtime';
import { sizesOf, withSizes, type SavedSize } from '../clusters/kinds/sizes';
import { HostError } from './contract';
import type { SecretLookup } from '../secrets/secret-store';
import type { ClusterLaunchParameters } from './backend';

async function environmentOf(
  directory: ClusterDirectory,
  clusterId: string,
  specName: string,
): Promise<LaunchEnvironment> {
  const env: Record<string, string> = {};
  try {
    const specs = await directory.get(clusterId)?.listKernelSpecs();
    const spec = specs?.specs.find((s) => s.name === specName)?.spec;
    for (const [k, v] of Object.entries(spec?.env ?? {})) if (typeof v === 'string') env[k] = v;
  } catch {
    // An unreachable cluster still gets its form; the defaults are then the cluster's own.
  }
  // A size's form is its environment's (an SSH environment's hosts are looked up by that name).
  return { name: sizeOf(directory.get(clusterId), specName)?.environment ?? specName, env };
}

/** Change a stored cluster's saved sizes through the one validator (kinds/registry.ts). */
export function sizesSaverFor(
  store: ClusterStore | null,
): (clusterId: string, change: (sizes: SavedSize[]) => SavedSize[]) => Promise<void> {
  return async (clusterId, change) => {
    const cfg = store?.get(clusterId);
    if (!store || !cfg)
      throw new HostError({ code: 'not-found', message: `Cluster "${clusterId}" has no saved settings.` });
    const next = withSizes(cfg, change(sizesOf(cfg)));
    const r = clusterKinds.check(next);
    if (r.problems.length)
      throw new HostError({ code: 'invalid-input', message: `Nothing was saved: ${r.problems.join('; ')}` });
    store.update(next);
  };
}

export function launchParametersFor(
  directory: ClusterDirectory,
  store: ClusterStore | null,
  secrets: SecretLookup,
): (clusterId: string, specName: string) => Promise<ClusterLaunchParameters> {
  return async (clusterId, specName) => {
    const cfg = store?.get(clusterId);
    const kind = cfg ? clusterKinds.get(cfg.kind) : undefined;
    if (!cfg || !kind?.launchParameters) return { parameters: [], check: async () => [] };
    const env = await environmentOf(directory, clusterId, specName);
    return {
      parameters: kind.launchParameters(cfg, env),
      check: async (values) => (await kind.checkLaunchParameters?.(cfg, env, values, secrets)) ?? [],
    };
  };
}
