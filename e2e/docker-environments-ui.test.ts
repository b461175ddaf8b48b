// A Docker cluster's kernel environments edited in the form: the launch section keeps its Kernel defaults
// fields and lists the environments; add one with an image and memory, Save shows the main process's verdict
// at the memory input, fix it, Save, and the cluster lists the new environment. No engine is dialled: the
// cluster's environments come from its settings.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DockerClusterConfig } from '../electron/clusters/kinds/docker/config';
import { screenshot, waitFor } from './helpers';
import { withStoredCluster } from './stored-cluster';

const T = 60_000;

describe('Docker kernel environments in the cluster form', { timeout: 300_000 }, () => {
  const app = withStoredCluster<DockerClusterConfig>(
    {
      id: 'box',
      name: 'Box',
      kind: 'docker',
      enabled: true,
      host: 'tcp://docker.lab.invalid:2376',
      image: 'python:3.12',
      python: '/usr/local/bin/python',
      cpus: 1,
      environments: [
        {
          name: 'gp',
          displayName: 'GP image',
          language: 'python',
          image: 'gp:1',
          launcher: 'gateway-provisioners',
        },
      ],
    },
    T,
  );
  const { saved, pageErrors } = app;

  test('add an environment; a bad memory is refused at its input; fixed, it is saved and listed', async () => {
    const page = app.page();
    await page.getByRole('button', { name: 'Clusters' }).click();
    await page.locator('.cluster-card[data-cluster-id="box"]').click();
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    await page.getByRole('heading', { name: /Edit Box/ }).waitFor();
    // The Kernel defaults are still drawn next to the environments.
    await page.getByRole('group', { name: 'Kernel defaults' }).waitFor();
    assert.equal(await page.locator('#cf-docker-cpus').inputValue(), '1');
    await page.locator('#cf-docker-memory').waitFor();

    const section = page.getByTestId('docker-environments');
    await section.getByRole('button', { name: 'Add an environment' }).click();
    await page.locator('#cf-env-1-name').fill('torch');
    await page.locator('#cf-env-1-displayName').fill('PyTorch');
    await page.locator('#cf-env-1-image').fill('pytorch/pytorch:2.3.0');
    await page.locator('#cf-env-1-memory').fill('lots');
    await page.locator('#cf-env-1-cpus').fill('2');
    await section.getByRole('button', { name: 'Add a variable' }).click();
    await section.getByLabel('Variable 1').fill('OMP_NUM_THREADS');
    await section.getByLabel('Value 1').fill('2');
    await page.getByRole('button', { name: 'Save' }).click();

    const memoryError = page.locator('#cf-env-1-memory-error');
    await memoryError.waitFor();
    assert.match(await memoryError.innerText(), /lots/);
    assert.equal(await page.locator('#cf-env-1-memory').getAttribute('aria-invalid'), 'true');
    assert.equal((saved().environments ?? []).length, 1, 'nothing saved');
    await screenshot(page, '60-docker-environments-errors');

    await page.locator('#cf-env-1-memory').fill('2g');
    await page.getByRole('button', { name: 'Save' }).click();
    await waitFor('saved', async () => (saved().environments ?? []).length === 2, T);
    assert.deepEqual(saved().environments?.[1], {
      name: 'torch',
      displayName: 'PyTorch',
      language: 'python',
      image: 'pytorch/pytorch:2.3.0',
      cpus: 2,
      memory: '2g',
      env: { OMP_NUM_THREADS: '2' },
    });
    assert.equal(saved().environments?.[0]?.launcher, 'gateway-provisioners', 'the others are kept');
    assert.equal(saved().cpus, 1, 'the kernel defaults are kept');

    await page.locator('.cluster-card[data-cluster-id="box"]').click();
    await page.locator('li.env[data-env="torch"]').waitFor();
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    await page.getByRole('button', { name: 'Edit PyTorch' }).click();
    assert.equal(await page.locator('#cf-env-1-memory').inputValue(), '2g');
    await screenshot(page, '61-docker-environments-edit');
    assert.deepEqual(pageErrors, []);
  });
});
