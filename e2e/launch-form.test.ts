// Issue 14 item 1, the launch form, in Chromium against `npm run serve` with Debian's Jupyter Server as the
// gateway: "Start kernel…" opens the form with the gateway kind's KERNEL_* parameters, an invalid memory value
// is refused at its field (nothing reaches the gateway), valid values and an extra KERNEL_* row reach the
// kernel's environment (os.environ printed in the console), and Escape closes the form back to its button.
// Jupyter Server 1.23 drops a POST's env (Enterprise and Kernel Gateway pass KERNEL_* on); a config file
// gives the upstream the gateways' behaviour, so what arrives is what the app sent.
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

describe('the launch form (issue 14 item 1, gateway upstream)', { timeout: 600_000 }, () => {
  let serve: ServeHandle;
  let upstream: JupyterServer;
  let closeBrowser: () => Promise<void> = async () => undefined;
  let page: Page;
  const pageErrors: string[] = [];
  const token = `up-${Math.random().toString(36).slice(2)}`;
  const cfgDir = mkdtempSync(join(tmpdir(), 'gd-e2e-launchform-'));

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

  const gatewayKernels = async (): Promise<number> => {
    const r = await fetch(`${upstream.url}/api/kernels`, { headers: { Authorization: `token ${token}` } });
    return ((await r.json()) as unknown[]).length;
  };

  test('an invalid memory value is refused at its field; nothing reaches the gateway', async () => {
    await page.locator('.cluster-card', { hasText: 'University' }).click();
    const env = page.locator('li.env[data-env="python3"]');
    await env.waitFor({ timeout: T });
    const open = env.getByRole('button', { name: /^Start kernel… with launch parameters/ });
    await open.click();
    const form = env.getByRole('form', { name: /Launch parameters for/ });
    await form.waitFor();
    assert.equal(await open.getAttribute('aria-expanded'), 'true');
    // The first field has the focus: the form is filled from the keyboard.
    await waitFor('focus in the form', () =>
      page.evaluate('document.activeElement?.id === "lf-KERNEL_IMAGE"'),
    );
    await form.getByLabel('Memory', { exact: true }).fill('lots');
    await form.getByLabel('CPUs', { exact: true }).fill('2');
    await form.getByRole('button', { name: 'Start with these parameters' }).click();
    const err = page.locator('#lf-KERNEL_MEMORY-error');
    await err.waitFor();
    assert.match(await err.innerText(), /KERNEL_MEMORY must be an amount like 4Gi, 512Mi or 2G/);
    assert.equal(await form.getByLabel('Memory', { exact: true }).getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('#lf-KERNEL_CPUS-error').count(), 0, 'only the wrong field is marked');
    assert.match(await form.getByTestId('launch-form-error').innerText(), /nothing was sent/);
    await waitFor('focus on the wrong field', () =>
      page.evaluate('document.activeElement?.id === "lf-KERNEL_MEMORY"'),
    );
    await screenshot(page, '14-01-launch-form-invalid-memory');
    assert.equal(await gatewayKernels(), 0, 'the gateway started nothing');
    assert.equal(await env.locator('.inline-launch').count(), 0, 'no launch began');
  });

  test('valid values and another KERNEL_* variable reach os.environ on the gateway kernel', async () => {
    const env = page.locator('li.env[data-env="python3"]');
    const form = env.getByRole('form', { name: /Launch parameters for/ });
    await form.getByLabel('Memory', { exact: true }).fill('4G');
    await form.getByLabel('GPUs', { exact: true }).fill('1');
    await form.getByRole('button', { name: 'Add a variable' }).click();
    await form.getByLabel('Variable 1', { exact: true }).fill('KERNEL_TEAM');
    await form.getByLabel('Value 1', { exact: true }).fill('blue');
    await screenshot(page, '14-02-launch-form-filled');
    await form.getByRole('button', { name: 'Start with these parameters' }).click();
    await form.waitFor({ state: 'detached' });
    const status = env.locator('.inline-launch');
    await waitFor('ready', async () => (await status.getAttribute('data-launch-status')) === 'done', T);
    await status.getByRole('button', { name: 'Open in console' }).click();
    await page
      .locator('#console-code')
      .fill(
        'import os\nprint(*[os.environ.get(k) for k in ("KERNEL_MEMORY", "KERNEL_CPUS", "KERNEL_GPUS", "KERNEL_TEAM")])',
      );
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const last = page.locator('li.entry').last();
    await waitFor('output', async () => (await last.getAttribute('data-status')) === 'ok', T);
    assert.match(await last.innerText(), /4G 2 1 blue/);
    await screenshot(page, '14-03-launch-form-environ');
  });

  test('Escape closes the form and gives the focus back to its button; the quick path still starts', async () => {
    await page.getByRole('button', { name: 'Clusters' }).click();
    await page.locator('.cluster-card', { hasText: 'University' }).click();
    const env = page.locator('li.env[data-env="python3"]');
    const open = env.getByRole('button', { name: /^Start kernel… with launch parameters/ });
    await open.click();
    const form = env.getByRole('form', { name: /Launch parameters for/ });
    await form.waitFor();
    await page.keyboard.press('Escape');
    await form.waitFor({ state: 'detached' });
    await waitFor('focus back on the opener', () =>
      page.evaluate('document.activeElement?.classList.contains("env-open-form")'),
    );
    const before = await gatewayKernels();
    await env.getByRole('button', { name: /Start a .* kernel/ }).click();
    await waitFor('a second kernel on the gateway', async () => (await gatewayKernels()) === before + 1, T);
    assert.deepEqual(pageErrors, []);
  });
});
