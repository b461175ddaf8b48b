import { fileURLToPath } from 'node:url';

// The argv Gateway Provisioners' `jupyter <kind>-spec install` writes into a kernel.json (GP 0.4: ssh_python,
// k8s_python, ...): a Python running the launcher script with the placeholders the provisioner fills in.
export function gpLauncherArgv(python: string, script: string): string[] {
  return [
    python,
    script,
    '--kernel-id',
    '{kernel_id}',
    '--port-range',
    '{port_range}',
    '--response-address',
    '{response_address}',
    '--public-key',
    '{public_key}',
    '--kernel-class-name',
    'ipykernel.ipkernel.IPythonKernel',
  ];
}

/** The test-only launcher that works as GP's launch_ipykernel.py (needs pycryptodome). */
export const GP_STYLE_LAUNCHER = fileURLToPath(new URL('./gp_launch_ipykernel.py', import.meta.url));

/** A reduced GP bootstrap-kernel.sh (the env contract -> the launcher next to it): a GP image's own command. */
export const GP_BOOTSTRAP = fileURLToPath(new URL('./gp-bootstrap-kernel.sh', import.meta.url));
