// One launch-progress pipeline (issue 11): a kernel that a `jupyter_server --gateway-url` client (what
// JupyterLab runs) starts through the proxy shows its launch live in the app's Kernels screen, as the app's own
// starts do; a failed outside start keeps its reason on screen until the user dismisses it.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startJupyterServer, type JupyterServer } from '../scripts/testing/jupyter-server';
import { launchBrowser, openApp, screenshot, startServe, type ServeHandle } from './helpers';

const T = 90_000;

function kernelspecs(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gd-e2e-outside-kernels-'));
  const spec = (name: string, json: object) => {
    mkdirSync(join(dir, 'kernels', name), { recursive: true });
    writeFileSync(join(dir, 'kernels', name, 'kernel.json'), JSON.stringify(json));
  };
  // Sleeps before it becomes ipykernel, so the launch is on screen long enough to be seen running.
  spec('slowpy', {
    argv: [
      '/bin/sh',
      '-c',
      'sleep 3; exec /usr/bin/python3 -m ipykernel_launcher -f "$0"',
      '{connection_file}',
    ],
    display_name: 'Slow Python',
    language: 'python',
  });
  spec('nopy', {
    argv: ['/nonexistent/bin/python9', '-m', 'ipykernel_launcher', '-f', '{connection_file}'],
    display_name: 'No Python',
    language: 'python',
  });
  return dir;
}

describe('launches started by other clients (issue 11)', { timeout: 300_000 }, () => {
  let serve: ServeHandle;
  let lab: JupyterServer;
  let specDir = '';
  let browser: Browser;
  let closeBrowser: () => Promise<void> = async () => undefined;
  let page: Page;

  const labStart = (name: string): Promise<Response> =>
    fetch(`${lab.url}/api/kernels`, {
      method: 'POST',
      headers: { Authorization: `token ${lab.token}` },
      body: JSON.stringify({ name }),
    });

  before(async () => {
    specDir = kernelspecs();
    serve = await startServe({ env: { JUPYTER_PATH: specDir } });
    lab = await startJupyterServer({ gatewayUrl: serve.url, gatewayToken: serve.token });
    const b = await launchBrowser();
    browser = b.browser;
    closeBrowser = b.close;
    page = await openApp(browser, serve, { timeoutMs: T });
    await page.locator('nav').getByRole('button', { name: 'Kernels', exact: true }).click();
    await page.getByRole('heading', { name: 'Kernels', level: 1 }).waitFor();
  });

  after(async () => {
    await closeBrowser();
    await lab?.stop();
    await serve?.stop();
    if (specDir) rmSync(specDir, { recursive: true, force: true });
  });

  test('a kernel JupyterLab starts through the proxy shows its launch live, then runs', async () => {
    const started = labStart('slowpy');
    const card = page.locator('li.launch[data-launch-outside="true"][data-launch-spec="slowpy"]');
    await card.locator('xpath=self::*[@data-launch-status="running"]').waitFor();
    assert.match(await card.innerText(), /Starting Slow Python on This computer/);
    assert.match(await card.innerText(), /started by another client/);
    await screenshot(page, '11-03-outside-launch-running');
    const res = await started;
    assert.equal(res.status, 201, await res.clone().text());
    const { id } = (await res.json()) as { id: string };
    await card.locator('xpath=self::*[@data-launch-status="done"]').waitFor();
    await page.locator(`tr[data-kernel-id="${id}"]`).waitFor();
    await fetch(`${lab.url}/api/kernels/${id}`, {
      method: 'DELETE',
      headers: { Authorization: `token ${lab.token}` },
    });
  });

  test('a failed outside start keeps its reason on screen until dismissed', async () => {
    const res = await labStart('nopy');
    assert.ok(res.status >= 500, `status ${res.status}`);
    const card = page.locator('li.launch[data-launch-outside="true"][data-launch-spec="nopy"]');
    await card.locator('xpath=self::*[@data-launch-status="failed"]').waitFor();
    assert.match(await card.innerText(), /python9/);
    // A finished launch goes away on its own after a few seconds; a failed one must not: start another
    // kernel, wait until its card has gone by itself, and the failed card is still there.
    // The first test's card may still be on screen (it leaves on its own): follow this launch by its kernel id.
    const starting = labStart('slowpy');
    const running = page.locator(
      'li.launch[data-launch-outside="true"][data-launch-spec="slowpy"][data-launch-status="running"]',
    );
    await running.waitFor();
    const shownId = await running.getAttribute('data-launch-kernel');
    const ok = await starting;
    assert.equal(ok.status, 201);
    const { id } = (await ok.json()) as { id: string };
    assert.equal(shownId, id, "the running card is this kernel's launch");
    const okCard = page.locator(`li.launch[data-launch-kernel="${id}"]`);
    await okCard.waitFor({ state: 'detached' });
    assert.equal(await card.count(), 1, 'the failed launch is still shown');
    await card.getByRole('button', { name: 'Dismiss' }).click();
    await card.waitFor({ state: 'detached' });
    await fetch(`${lab.url}/api/kernels/${id}`, {
      method: 'DELETE',
      headers: { Authorization: `token ${lab.token}` },
    });
  });
});
