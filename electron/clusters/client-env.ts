// What of a client's env reaches a kernel that our provisioners start (this computer, an SSH host): KERNEL_*
// variables only, as Kernel Gateway passes by default. A client must not set PATH or LD_PRELOAD for a process
// we run; the kernelspec's own env is separate and always applies.
export function kernelEnvFromClient(
  env: Record<string, string>,
  log: (message: string) => void,
  where: string,
): Record<string, string> {
  const kept: Record<string, string> = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith('KERNEL_')) kept[k] = v;
    else dropped.push(k);
  }
  if (dropped.length)
    log(
      `kernel start: ignored env ${dropped.slice(0, 10).join(', ')} (only KERNEL_* reach a kernel ${where})`,
    );
  return kept;
}
