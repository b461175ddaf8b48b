// A Gateway Provisioners kernelspec on this computer (issue 11): `jupyter k8s-spec install` writes a
// kernel.json whose argv runs launch_kubernetes.py and whose metadata names `kubernetes-provisioner`. Through
// the proxy it is refused with an error naming the provisioner and what to set up, and its argv never runs
// (the script would create a marker file). The same argv without the metadata does run (the marker shows the
// check can fail); `local-provisioner` named explicitly is the local provisioner.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AppCore } from '../../app-core';
import { gpLauncherArgv } from '../../../scripts/testing/gp-kernelspec';
import { SYSTEM_KERNELS, api, processesMatching, rmrf, startTestCore } from './helpers';

interface ErrorBody {
  reason: string;
  message: string;
}

describe('kernelspecs that name a provisioner this computer does not have', { timeout: 120_000 }, () => {
  let core: AppCore;
  let cleanup: () => Promise<void>;
  let specDir: string;
  const marker = (name: string): string => path.join(specDir, `${name}.ran`);

  /** A kernelspec laid out like `jupyter k8s-spec install` writes it, its launcher leaving a marker. */
  function k8sSpec(name: string, provisioner: string | null): void {
    const dir = path.join(specDir, name);
    mkdirSync(path.join(dir, 'scripts'), { recursive: true });
    const script = path.join(dir, 'scripts', 'launch_kubernetes.py');
    writeFileSync(
      script,
      `import sys\nopen(${JSON.stringify(marker(name))}, 'w').write(' '.join(sys.argv))\nsys.exit(3)\n`,
    );
    writeFileSync(
      path.join(dir, 'kernel.json'),
      JSON.stringify({
        argv: gpLauncherArgv('/usr/bin/python3', script),
        env: {},
        display_name: 'Kubernetes Python',
        language: 'python',
        interrupt_mode: 'signal',
        metadata: {
          debugger: true,
          ...(provisioner
            ? {
                kernel_provisioner: {
                  provisioner_name: provisioner,
                  config: { image_name: 'elyra/kernel-py:3.2.3', launch_timeout: 30 },
                },
              }
            : {}),
        },
      }),
    );
  }

  before(async () => {
    specDir = mkdtempSync(path.join(tmpdir(), 'gd-gp-specs-'));
    k8sSpec('k8s_python', 'kubernetes-provisioner');
    k8sSpec('custom_python', 'acme-provisioner');
    k8sSpec('k8s_python_no_metadata', null);
    const py = path.join(specDir, 'python3_local');
    cpSync(path.join(SYSTEM_KERNELS, 'python3'), py, { recursive: true });
    const json = JSON.parse(readFileSync(path.join(py, 'kernel.json'), 'utf8')) as Record<string, unknown>;
    json.metadata = { kernel_provisioner: { provisioner_name: 'local-provisioner' } };
    writeFileSync(path.join(py, 'kernel.json'), JSON.stringify(json));
    ({ core, cleanup } = await startTestCore({ kernelSpecDirs: [specDir] }));
  });

  after(async () => {
    await cleanup();
    rmrf(specDir);
  });

  const start = (name: string): Promise<Response> =>
    api(core, '/api/kernels', { method: 'POST', body: JSON.stringify({ name }) });

  test("Gateway Provisioners' kubernetes-provisioner: refused, named, what to set up; argv not run", async () => {
    const res = await start('k8s_python');
    assert.equal(res.status, 500); // as Jupyter Server answers a failed launch
    const body = (await res.json()) as ErrorBody;
    assert.equal(body.reason, 'Kernel launch failed');
    assert.match(body.message, /k8s_python/);
    assert.match(body.message, /Gateway Provisioners' kubernetes-provisioner/);
    assert.match(body.message, /needs a Kubernetes cluster/);
    assert.match(body.message, /cannot run it on This computer/);
    assert.match(body.message, /Add a Kubernetes cluster/);
    assert.equal(existsSync(marker('k8s_python')), false, 'the launcher must not have run');
    assert.deepEqual(processesMatching('launch_kubernetes.py'), []);
    const kernels = (await (await api(core, '/api/kernels')).json()) as unknown[];
    assert.deepEqual(kernels, []);
  });

  test('an unknown provisioner name: refused with the name, the file and what to do', async () => {
    const res = await start('custom_python');
    assert.equal(res.status, 500);
    const body = (await res.json()) as ErrorBody;
    assert.match(body.message, /provisioner "acme-provisioner"/);
    assert.match(body.message, /custom_python[/\\]kernel\.json/);
    assert.match(body.message, /Remove metadata\.kernel_provisioner/);
    assert.equal(existsSync(marker('custom_python')), false);
  });

  test('the same argv without the metadata is run by the local provisioner (the marker can appear)', async () => {
    const res = await start('k8s_python_no_metadata');
    assert.equal(res.status, 500);
    const body = (await res.json()) as ErrorBody;
    assert.match(body.message, /exited during launch \(exit code 3\)/);
    assert.equal(existsSync(marker('k8s_python_no_metadata')), true);
  });

  test('local-provisioner named explicitly: a real kernel on this computer', async () => {
    const res = await start('python3_local');
    assert.equal(res.status, 201);
    const { id } = (await res.json()) as { id: string };
    const del = await api(core, `/api/kernels/${id}`, { method: 'DELETE' });
    assert.equal(del.status, 204);
    assert.deepEqual(processesMatching(id), []);
  });
});
