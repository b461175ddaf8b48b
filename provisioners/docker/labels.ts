// The labels that make a container (or a Swarm service) ours: the app's, a kernel's, and this install's. Only
// what carries all of them is ever listed as an orphan or removed; anyone else's containers are never touched.

export const APP_LABEL = 'gateway-desktop';
export const INSTALL_LABEL = 'gateway-desktop.install';

export interface KernelLabels {
  [key: string]: string;
  app: string;
  component: string;
  kernel_id: string;
  'gateway-desktop.install': string;
}

export function kernelLabels(kernelId: string, installId: string): KernelLabels {
  return { app: APP_LABEL, component: 'kernel', kernel_id: kernelId, [INSTALL_LABEL]: installId };
}

/**
 * Whether labels mark a kernel container of this app (and, when `installId` is given, of this install: another
 * install on the same engine, e.g. a colleague's laptop on a lab server, keeps its own kernels).
 */
export function isOurKernel(labels: Record<string, string> | null | undefined, installId?: string): boolean {
  if (!labels) return false;
  if (labels.app !== APP_LABEL || labels.component !== 'kernel' || !labels.kernel_id) return false;
  return installId === undefined ? Boolean(labels[INSTALL_LABEL]) : labels[INSTALL_LABEL] === installId;
}

/** Engine-side label filters for the list calls (`filters: JSON.stringify({ label: … })`). */
export function ourLabelFilters(installId?: string, kernelId?: string): string[] {
  return [
    `app=${APP_LABEL}`,
    'component=kernel',
    installId ? `${INSTALL_LABEL}=${installId}` : INSTALL_LABEL,
    ...(kernelId ? [`kernel_id=${kernelId}`] : []),
  ];
}
