// A kernel's KERNEL_* parameters in a few words for the Kernels table ("16G · 2 CPUs · 1 GPU"), and in full
// (one `KERNEL_X=value` per line) for the hover and the row's detail.

const plural = (v: string, one: string): string => `${v} ${one}${v === '1' ? '' : 's'}`;

/** Memory, CPUs, GPUs and the image's last part first; anything else counted as "+N more". */
export function compactParams(params: Record<string, string> | undefined): string {
  if (!params) return '';
  const parts: string[] = [];
  const shown = new Set<string>();
  const take = (name: string, fmt: (v: string) => string): void => {
    const v = params[name];
    if (!v) return;
    parts.push(fmt(v));
    shown.add(name);
  };
  take('KERNEL_MEMORY', (v) => v);
  take('KERNEL_CPUS', (v) => plural(v, 'CPU'));
  take('KERNEL_GPUS', (v) => plural(v, 'GPU'));
  take('KERNEL_IMAGE', (v) => v.split('/').pop() ?? v);
  // Set for every start (the launch time limit, who asked): not what a person looks for at a glance.
  for (const quiet of ['KERNEL_LAUNCH_TIMEOUT', 'KERNEL_USERNAME']) shown.add(quiet);
  const more = Object.keys(params).filter((k) => !shown.has(k)).length;
  if (more) parts.push(`+${more} more`);
  return parts.join(' · ');
}

export function fullParams(params: Record<string, string> | undefined): string {
  return Object.entries(params ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
}
