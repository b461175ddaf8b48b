// An SSH cluster's kernel environments edited in the form (issue 12 item 4): add one, Save shows the main
// process's verdict at each input (the name, a launch timeout that is not a number), fix them, Save, and the
// cluster lists the new environment. No connection is made: the cluster's host is never dialled.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SshClusterConfig } from '../electron/clusters/kinds/ssh/config';
import { screenshot, waitFor } from './helpers';
import { withStoredCluster } from './stored-cluster';

const T = 60_000;

describe('SSH kernel environments in the cluster form', { timeout: 300_000 }, () => {
  const app = withStoredCluster<SshClusterConfig>(
    {
      id: 'lab',
      name: 'Lab',
      kind: 'ssh',
      enabled: true,
      hosts: ['gpu1.lab.invalid', 'gpu2.lab.invalid'],
      python: '/usr/bin/python3',
      environments: [{ name: 'r', displayName: 'R 4.3', language: 'R', argv: ['R', '{connection_file}'] }],
    },
    T,
  );
  const { saved, pageErrors } = app;

  test('add an environment; errors at their inputs; fixed, it is saved and listed', async () => {
    const page = app.page();
    await page.getByRole('button', { name: 'Clusters' }).click();
    await page.locator('.cluster-card[data-cluster-id="lab"]').click();
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    await page.getByRole('heading', { name: /Edit Lab/ }).waitFor();
    const section = page.getByTestId('ssh-environments');
    await section.getByRole('button', { name: 'Add an environment' }).click();
    await page.locator('#cf-env-1-name').fill('Torch GPU');
    await section.getByLabel('Display name').fill('PyTorch (GPU)');
    await section.getByRole('textbox', { name: 'Remote Python' }).fill('/opt/torch/bin/python');
    await section.getByLabel('gpu2.lab.invalid').check();
    await section.getByLabel('Launch timeout (seconds)').fill('soon');
    await section.getByRole('button', { name: 'Add a variable' }).click();
    await section.getByLabel('Variable 1').fill('OMP_NUM_THREADS');
    await section.getByLabel('Value 1').fill('8');
    await page.getByRole('button', { name: 'Save' }).click();

    const nameError = page.locator('#cf-env-1-name-error');
    await nameError.waitFor();
    assert.match(await nameError.innerText(), /lowercase letters, digits/);
    assert.match(
      await page.locator('#cf-env-1-launchTimeoutSec-error').innerText(),
      /positive number of seconds, not "soon"/,
    );
    assert.equal(await page.locator('#cf-env-1-name').getAttribute('aria-invalid'), 'true');
    await screenshot(page, '20-ssh-environments-errors');

    await page.locator('#cf-env-1-name').fill('torch-gpu');
    await page.locator('#cf-env-1-launchTimeoutSec').fill('300');
    await page.getByRole('button', { name: 'Save' }).click();
    await waitFor('saved', async () => (saved().environments ?? []).length === 2, T);
    assert.deepEqual(saved().environments?.[1], {
      name: 'torch-gpu',
      displayName: 'PyTorch (GPU)',
      language: 'python',
      python: '/opt/torch/bin/python',
      hosts: ['gpu2.lab.invalid'],
      launchTimeoutSec: 300,
      env: { OMP_NUM_THREADS: '8' },
    });
    assert.deepEqual(saved().environments?.[0]?.argv, ['R', '{connection_file}'], 'the others are kept');

    await page.locator('.cluster-card[data-cluster-id="lab"]').click();
    await page.locator('li.env[data-env="torch-gpu"]').waitFor();
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    await page.getByRole('button', { name: 'Edit PyTorch (GPU)' }).click();
    await screenshot(page, '21-ssh-environments-edit');
    assert.deepEqual(pageErrors, []);
  });
});
