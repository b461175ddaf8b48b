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
