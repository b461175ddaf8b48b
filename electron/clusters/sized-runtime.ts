// A cluster runtime with its saved sizes (kinds/sizes.ts) listed as kernelspecs of their own: size "GPU, 16 GB"
// of environment `python3` is `python3--gpu-16-gb`, "Python 3 · GPU, 16 GB" (the directory pins it as
// `<cluster-slug>--python3--gpu-16-gb`, "… (on Cluster)", like any spec of a non-active cluster). Starting it
// starts the environment with the size's KERNEL_* values under the client's own: a client's explicit value wins
// over the size's, and the size's over the environment's defaults (the kernelspec's env, the cluster's launch
// parameters). A kernel keeps the size's name, so a notebook saved with it reopens on that size.
import type { ClusterKernelSpec, ClusterKernelSpecs, ClusterRuntime, StartKernelRequest } from './types';
import { findSize, sizeSpecName, type SavedSize } from './kinds/sizes';

const sizesByRuntime = new WeakMap<ClusterRuntime, readonly SavedSize[]>();

/** The KERNEL_* values a start of `specName` on `cluster` gets from a saved size ({} when it is no size). */
export function sizeValuesOf(cluster: ClusterRuntime, specName: string): Record<string, string> {
  const size = findSize(sizesByRuntime.get(cluster) ?? [], specName);
  return size ? { ...size.values } : {};
}

/** The saved size a spec name of `cluster` stands for, or null. */
export function sizeOf(cluster: ClusterRuntime | undefined, specName: string): SavedSize | null {
  return cluster ? findSize(sizesByRuntime.get(cluster) ?? [], specName) : null;
}

function sizedSpecs(listing: ClusterKernelSpecs, sizes: readonly SavedSize[]): ClusterKernelSpecs {
  const specs: ClusterKernelSpec[] = [];
  const taken = new Set(listing.specs.map((s) => s.name.toLowerCase()));
  for (const base of listing.specs) {
    specs.push(base);
    for (const size of sizes) {
      if (size.environment.toLowerCase() !== base.name.toLowerCase()) continue;
      const name = sizeSpecName({ environment: base.name, name: size.name });
      if (taken.has(name.toLowerCase())) continue; // a real kernelspec of that name is listed as itself
      taken.add(name.toLowerCase());
      specs.push({
        name,
        // The spec's env shows what the size sets (the launch form's defaults for it).
        spec: {
          ...base.spec,
          display_name: `${base.spec.display_name} · ${size.name}`,
          env: { ...(base.spec.env ?? {}), ...size.values },
        },
        resources: base.resources,
      });
    }
  }
  return { ...listing, specs };
}

/**
 * The runtime, answering for its sizes too. Without sizes it is returned as is. A Proxy rather than a wrapper
 * class: every optional method a kind implements (keepInfo, listForeignKernels, relayedKernels, ...) and
 * `instanceof` keep working, bound to the real runtime.
 */
export function withSavedSizes(inner: ClusterRuntime, sizes: readonly SavedSize[]): ClusterRuntime {
  if (sizes.length === 0) return inner;
  const envOf = (specName: string): string => findSize(sizes, specName)?.environment ?? specName;
  const own: Partial<ClusterRuntime> = {
    listKernelSpecs: async (q) => sizedSpecs(await inner.listKernelSpecs(q), sizes),
    getResource: (specName, file) => inner.getResource(envOf(specName), file),
    startKernel: (req: StartKernelRequest) => {
      const size = findSize(sizes, req.specName);
      if (!size) return inner.startKernel(req);
      return inner.startKernel({ ...req, specName: size.environment, env: { ...size.values, ...req.env } });
    },
  };
  if (inner.reattachKernel) {
    const reattach = inner.reattachKernel.bind(inner);
    own.reattachKernel = (kernelId, specName, details) => reattach(kernelId, envOf(specName), details);
  }
  const proxy = new Proxy(inner, {
    get(target, prop) {
      if (typeof prop === 'string' && prop in own) return own[prop as keyof ClusterRuntime];
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  sizesByRuntime.set(proxy, sizes);
  return proxy;
}
