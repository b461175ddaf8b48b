// Issue 14 items 2 and 3 in Chromium against `npm run serve` with Debian's Jupyter Server as the gateway:
// "Save as size…" in the launch form saves the values under a name; the size is listed under its environment
// and on /api/kernelspecs; starting it with defaults gives the kernel the size's KERNEL_* values (os.environ in
// the console), the Kernels table shows what the kernel got, and Remove takes the size away.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { startJupyterServer, type JupyterServer } from '../scripts/testing/jupyter-server';
import {
  addGatewayByCli,
  launchBrowser,
  openApp,
  screenshot,
  startServe,
  waitFor,
  type ServeHandle,
} from './helpers';
import { PASS_KERNEL_ENV } from './pass-kernel-env';

const T = 90_000;
const SIZE = 'python3--small-2g';

describe('saved sizes from the launch form (issue 14 items 2 and 3)', { timeout: 600_000 }, () => {
  let serve: ServeHandle;
  let upstream: JupyterServer;
  let closeBrowser: () => Promise<void> = async () => undefined;
  let page: Page;
  const pageErrors: string[] = [];
  const token = `up-${Math.random().toString(36).slice(2)}`;
  const cfgDir = mkdtempSync(join(tmpdir(), 'gd-e2e-sizes-'));

  before(async () => {
    const cfg = join(cfgDir, 'pass_kernel_env.py');
    writeFileSync(cfg, PASS_KERNEL_ENV);
    [serve, upstream] = await Promise.all([
      startServe(),
      startJupyterServer({ token, extraArgs: [`--config=${cfg}`] }),
    ]);
    addGatewayByCli(serve, 'University', upstream.url, token);
    const b = await launchBrowser();
    closeBrowser = b.close;
    page = await openApp(b.browser, serve, { timeoutMs: T, pageErrors });
  });

  after(async () => {
    await closeBrowser();
    await serve?.stop();
    await upstream?.stop();
    rmSync(cfgDir, { recursive: true, force: true });
  });

  const kernelspecs = async (): Promise<string[]> => {
    const r = await fetch(`${serve.url}api/kernelspecs`, {
      headers: { Authorization: `token ${serve.token}` },
    });
    return Object.keys(((await r.json()) as { kernelspecs: Record<string, unknown> }).kernelspecs);
  };

  test('Save as size…: a bad value is refused at its field; a good one is listed as its own kernel', async () => {
    await page.locator('.cluster-card', { hasText: 'University' }).click();
    const env = page.locator('li.env[data-env="python3"]');
    await env.waitFor({ timeout: T });
    await env.getByRole('button', { name: /^Start kernel… with launch parameters/ }).click();
    const form = env.getByRole('form', { name: /Launch parameters for/ });
    await form.getByLabel('Memory', { exact: true }).fill('lots');
    await form.getByRole('button', { name: 'Save as size…' }).click();
    await form.getByLabel('Size name').fill('Small 2G');
    await form.getByRole('button', { name: 'Save size' }).click();
    const err = page.locator('#lf-KERNEL_MEMORY-error');
    await err.waitFor();
    assert.match(await err.innerText(), /KERNEL_MEMORY must be an amount like 4Gi, 512Mi or 2G/);
    await form.getByLabel('Memory', { exact: true }).fill('2G');
    await form.getByRole('button', { name: 'Save size' }).click();
    await form.waitFor({ state: 'detached' });
    const size = page.locator(`li.env[data-env="${SIZE}"]`);
    await size.waitFor({ timeout: T });
    assert.match(await size.innerText(), /Small 2G/);
    assert.match(await size.innerText(), /Saved size/);
    await waitFor(
      'size on /api/kernelspecs',
      async () => (await kernelspecs()).some((n) => n.endsWith(SIZE)),
      T,
    );
    await screenshot(page, '14-04-saved-size');
  });

  test('starting the size gives the kernel its values; the Kernels table shows them', async () => {
    const size = page.locator(`li.env[data-env="${SIZE}"]`);
    await size.getByRole('button', { name: /Start a .* kernel/ }).click();
    const status = size.locator('.inline-launch');
    await waitFor('ready', async () => (await status.getAttribute('data-launch-status')) === 'done', T);
    await status.getByRole('button', { name: 'Open in console' }).click();
    await page.locator('#console-code').fill('import os\nprint(os.environ.get("KERNEL_MEMORY"))');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const last = page.locator('li.entry').last();
    await waitFor('output', async () => (await last.getAttribute('data-status')) === 'ok', T);
    assert.match(await last.innerText(), /2G/);
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('button', { name: /^Kernels/ })
      .click();
    const params = page.getByTestId('kernel-params').first();
    await params.waitFor({ timeout: T });
    assert.match(await params.innerText(), /^2G/);
    assert.match((await params.locator('summary').getAttribute('title')) ?? '', /KERNEL_MEMORY=2G/);
    await screenshot(page, '14-05-kernel-params');
  });

  test('Remove takes the size away', async () => {
    await page.getByRole('button', { name: 'Clusters', exact: true }).click();
    await page.locator('.cluster-card', { hasText: 'University' }).click();
    const size = page.locator(`li.env[data-env="${SIZE}"]`);
    await size.getByRole('button', { name: /^Remove size Small 2G/ }).click();
    await size.waitFor({ state: 'detached', timeout: T });
    await waitFor('size gone', async () => !(await kernelspecs()).some((n) => n.endsWith(SIZE)), T);
    assert.deepEqual(pageErrors, []);
  });
});
