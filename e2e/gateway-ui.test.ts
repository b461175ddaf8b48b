// The student's story in the UI (issue 5 items 1, 4, 5): add a remote gateway cluster (Debian's Jupyter
// Server with a token stands in for the university gateway), test the connection (wrong token -> a clear
// 401 diagnosis, right token -> version and kernelspec count), save, see its environments, make it active,
// run a kernel there from the app, and open "JupyterLab" (Jupyter Server as the lab command) from the UI.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  openAppInBrowser,
  runInConsole,
  screenshot,
  shutDownKernel,
  startKernelFromEnvironments,
  startServe,
  startUpstreamGateway,
  waitFor,
  type ServeHandle,
  type UpstreamServer,
} from './helpers';

const T = 90_000;

describe('gateway clusters from the UI (real Jupyter Server upstream)', { timeout: 600_000 }, () => {
  let serve: ServeHandle;
  let upstream: UpstreamServer;
  let closeBrowser: () => Promise<void> = async () => undefined;
  let page: Page;
  let clusterId = '';
  const pageErrors: string[] = [];

  before(async () => {
    [serve, upstream] = await Promise.all([startServe(), startUpstreamGateway()]);
    ({ page, close: closeBrowser } = await openAppInBrowser(serve, { timeoutMs: T, pageErrors }));
  });

  after(async () => {
    await closeBrowser();
    await serve?.stop();
    await upstream?.stop();
  });

  test('test connection tells a wrong token apart, then succeeds; the cluster is saved', async () => {
    await page.getByRole('button', { name: 'Add cluster' }).click();
    await page.getByLabel('Name', { exact: true }).fill('University');
    await page.getByLabel('Gateway URL').fill(upstream.url);
    await page.getByLabel('Token', { exact: true }).fill('wrong-token');
    await page.getByRole('button', { name: 'Test connection' }).click();
    const diag = page.locator('.diagnosis');
    await waitFor('401 diagnosis', async () => (await diag.getAttribute('data-kind')) === 'unauthorized', T);
    assert.match(await diag.innerText(), /token/i);
    await screenshot(page, '10-gateway-wrong-token');

    await page.getByLabel('Token', { exact: true }).fill(upstream.token);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await waitFor('ok diagnosis', async () => (await diag.getAttribute('data-kind')) === 'ok', T);
    const ok = await diag.innerText();
    assert.match(ok, /kernelspec|kernel environment/);
    await page.getByRole('button', { name: 'Add launch parameter' }).click();
    await page.getByPlaceholder('Parameter').fill('KERNEL_CPUS');
    await page.getByPlaceholder('Value').fill('2');
    await screenshot(page, '11-gateway-form-ok');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Clusters', level: 1 }).waitFor();
    const card = page.locator('.cluster-card', { hasText: 'University' });
    await card.waitFor();
    clusterId = (await card.getAttribute('data-cluster-id')) ?? '';
    assert.ok(clusterId);
    const data = JSON.parse(readFileSync(join(serve.dataDir, 'clusters.json'), 'utf8')) as {
      clusters: { id: string; url?: string; auth?: { tokenSecret?: string }; launchParams?: unknown[] }[];
    };
    const saved = data.clusters.find((c) => c.id === clusterId);
    assert.equal(saved?.url, upstream.url);
    assert.deepEqual(saved?.launchParams, [{ name: 'KERNEL_CPUS', value: '2' }]);
    assert.ok(!JSON.stringify(data).includes(upstream.token), 'the token is not in clusters.json');
  });

  test('the gateway cluster shows health and its kernel environments; it can be made active', async () => {
    await page.locator(`.cluster-card[data-cluster-id="${clusterId}"]`).click();
    await page.getByRole('heading', { name: 'University', level: 2 }).waitFor();
    await page.locator('li.env[data-env="python3"]').waitFor({ timeout: T });
    await waitFor('reachable', async () =>
      /Reachable/.test(await page.locator(`.cluster-card[data-cluster-id="${clusterId}"]`).innerText()),
    );
    await page.getByRole('button', { name: 'Make active' }).click();
    await waitFor('active chip', async () =>
      /University/.test(await page.locator('.active-chip').innerText()),
    );
    await screenshot(page, '12-gateway-cluster-active');
  });

  test('a kernel started on the gateway from the UI runs code through the relay', async () => {
    const row = await startKernelFromEnvironments(page, 'University', T);
    assert.match(await runInConsole(page, row, 'print(6*7)', T), /42/);
    await page.getByRole('button', { name: /^Kernels/ }).click();
    await screenshot(page, '13-kernels-on-gateway');
    await shutDownKernel(page, row, 'University', T);
  });

  test('editing keeps the saved token (not shown) and the settings', async () => {
    await page.getByRole('button', { name: 'Clusters' }).click();
    await page.locator(`.cluster-card[data-cluster-id="${clusterId}"]`).click();
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    await page.getByRole('heading', { name: /Edit University/ }).waitFor();
    assert.equal(await page.getByLabel('Gateway URL').inputValue(), upstream.url);
    assert.equal(await page.getByLabel('Token', { exact: true }).inputValue(), '');
    assert.match(await page.locator('#cf-token-hint').innerText(), /token is saved/);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await waitFor(
      'ok with the saved token',
      async () => (await page.locator('.diagnosis').getAttribute('data-kind')) === 'ok',
      T,
    );
    await page.getByRole('button', { name: 'Cancel' }).click();
  });

  test('Open JupyterLab starts the configured command against the proxy and reports it running', async () => {
    await page.getByRole('button', { name: 'Settings & log' }).click();
    await page.getByLabel('JupyterLab command').fill('/usr/bin/python3 -m jupyter_server');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await waitFor('saved', async () =>
      (await page.getByLabel('JupyterLab command').inputValue()).includes('jupyter_server'),
    );
    await page.getByRole('button', { name: 'JupyterLab' }).click();
    const popup = page.waitForEvent('popup', { timeout: T }).catch(() => null);
    await page.getByRole('button', { name: 'Open JupyterLab' }).click();
    const status = page.locator('.lab-status');
    await waitFor('running', async () => /runs at/.test(await status.innerText().catch(() => '')), T);
    const tab = await popup;
    await screenshot(page, '14-jupyterlab-running');
    if (tab) await tab.close();
    await page.getByRole('button', { name: 'Stop JupyterLab' }).click();
    await waitFor('stopped', async () => /stopped/i.test(await status.innerText()), T);
  });

  test('removing the cluster asks first, then it is gone from the list and the file', async () => {
    await page.getByRole('button', { name: 'Clusters' }).click();
    await page.locator(`.cluster-card[data-cluster-id="${clusterId}"]`).click();
    await page.getByRole('button', { name: 'Remove' }).click();
    await page.getByRole('button', { name: 'Yes, remove' }).click();
    await waitFor(
      'gone',
      async () => (await page.locator(`.cluster-card[data-cluster-id="${clusterId}"]`).count()) === 0,
    );
    const data = JSON.parse(readFileSync(join(serve.dataDir, 'clusters.json'), 'utf8')) as {
      activeClusterId: string;
      clusters: { id: string }[];
    };
    assert.deepEqual(
      data.clusters.map((c) => c.id),
      ['local'],
    );
    assert.equal(data.activeClusterId, 'local');
    assert.deepEqual(pageErrors, []);
  });
});
