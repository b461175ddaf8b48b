// Issue 17, the app in a person's hands, in Chromium against `npm run serve` with a token-protected Jupyter
// Server as the "university gateway": feedback where Start was pressed, "starting" until the kernel answers
// (a kernelspec that sleeps before exec), health that follows the gateway down and back up, the gateway's own
// words on a failed start, the header switcher, focus after actions, and the wrong-token banner.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
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

const T = 90_000;
const SLOW_S = 6;

function kernelspecs(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gd-e2e-upstream-kernels-'));
  const spec = (name: string, json: object) => {
    mkdirSync(join(dir, 'kernels', name), { recursive: true });
    writeFileSync(join(dir, 'kernels', name, 'kernel.json'), JSON.stringify(json));
  };
  spec('slow', {
    // Sleeps before it becomes ipykernel: the gateway's POST returns at once, the kernel answers later.
    argv: [
      '/bin/sh',
      '-c',
      `sleep ${SLOW_S}; exec /usr/bin/python3 -m ipykernel_launcher -f "$0"`,
      '{connection_file}',
    ],
    display_name: 'Slow Python',
    language: 'python',
  });
  spec('missing', {
    argv: ['/nonexistent/bin/python9', '-m', 'ipykernel_launcher', '-f', '{connection_file}'],
    display_name: 'Missing Python',
    language: 'python',
  });
  return dir;
}

describe('the app in a person’s hands (issue 17)', { timeout: 600_000 }, () => {
  let serve: ServeHandle;
  let upstream: JupyterServer;
  let specDir = '';
  let browser: Browser;
  let closeBrowser: () => Promise<void> = async () => undefined;
  let page: Page;
  let clusterId = '';
  const pageErrors: string[] = [];
  const token = `up-${Math.random().toString(36).slice(2)}`;

  const startUpstream = (port?: number) =>
    startJupyterServer({ token, port, env: { JUPYTER_PATH: specDir } });

  before(async () => {
    specDir = kernelspecs();
    [serve, upstream] = await Promise.all([startServe(), startUpstream()]);
    addGatewayByCli(serve, 'University', upstream.url, token);
    const b = await launchBrowser();
    browser = b.browser;
    closeBrowser = b.close;
    page = await openApp(browser, serve, { timeoutMs: T, pageErrors });
  });

  after(async () => {
    await closeBrowser();
    await serve?.stop();
    await upstream?.stop();
    if (specDir) rmSync(specDir, { recursive: true, force: true });
  });

  test('Start shows progress and the outcome in place, keeps the focus, then opens the kernel in the console', async () => {
    const env = page.locator('li.env[data-env="python3"]');
    const start = env.getByRole('button', { name: /Start a .* kernel/ });
    await start.click();
    const status = env.locator('.inline-launch');
    await status.waitFor();
    assert.equal(
      await page.evaluate('document.activeElement?.classList.contains("env-start")'),
      true,
      'the focus stays on the Start button',
    );
    await waitFor(
      'ready in place',
      async () => (await status.getAttribute('data-launch-status')) === 'done',
      T,
    );
    assert.match(await status.innerText(), /The kernel is ready/);
    await screenshot(page, '17-01-start-in-place');
    await status.getByRole('button', { name: 'Open in console' }).click();
    await page.getByRole('heading', { name: 'Console', level: 1 }).waitFor();
    await waitFor('the editor has the focus', () =>
      page.evaluate('document.activeElement?.id === "console-code"'),
    );
    const selected = await page.locator('#console-kernel').inputValue();
    const rows = await page.locator('#console-kernel option').count();
    assert.ok(selected && rows >= 1);
  });

  test('the header switcher makes the gateway active in one choice (and back)', async () => {
    await page.getByRole('button', { name: 'Clusters' }).click();
    const card = page.locator('.cluster-card', { hasText: 'University' });
    await card.waitFor();
    clusterId = (await card.getAttribute('data-cluster-id')) ?? '';
    const switcher = page.getByLabel('New kernels start on');
    await switcher.selectOption(clusterId);
    await waitFor('University active', async () => /Active/.test(await card.innerText()));
    const saved = (): string =>
      (JSON.parse(readFileSync(join(serve.dataDir, 'clusters.json'), 'utf8')) as { activeClusterId: string })
        .activeClusterId;
    assert.equal(saved(), clusterId);
    await switcher.selectOption('local');
    await waitFor('This computer active again', async () =>
      /Active/.test(await page.locator('.cluster-card', { hasText: 'This computer' }).innerText()),
    );
    assert.equal(saved(), 'local');
  });

  test('"Make active" keeps the focus in the cluster panel', async () => {
    await page.locator(`.cluster-card[data-cluster-id="${clusterId}"]`).click();
    await page.getByRole('button', { name: 'Make active' }).click();
    await waitFor('focus on the panel heading', () =>
      page.evaluate('document.activeElement?.id === "cluster-detail-title"'),
    );
    await page.getByLabel('New kernels start on').selectOption('local');
  });

  test('a slow gateway kernel is "starting" until it answers kernel_info, everywhere', async () => {
    await page.locator(`.cluster-card[data-cluster-id="${clusterId}"]`).click();
    const env = page.locator('li.env[data-env="slow"]');
    await env.waitFor({ timeout: T });
    const t0 = Date.now();
    await env.getByRole('button', { name: /Start a .* kernel/ }).click();
    const status = env.locator('.inline-launch');
    await waitFor('running', async () => (await status.getAttribute('data-launch-status')) === 'running', T);
    // The Kernels screen (a second tab of the same app) shows the listed kernel as starting meanwhile.
    const other = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await other.goto(`${serve.url}?token=${serve.token}`);
    await other.getByRole('button', { name: /^Kernels/ }).click();
    const row = other.locator('tr[data-kernel-id]', { hasText: 'University' });
    await row.waitFor({ timeout: T });
    const early = await row.getAttribute('data-state');
    assert.equal(early, 'starting', 'listed but not answering yet: starting');
    await screenshot(other, '17-02-slow-kernel-starting');
    await waitFor('ready', async () => (await status.getAttribute('data-launch-status')) === 'done', T);
    const took = Date.now() - t0;
    assert.ok(took >= (SLOW_S - 1) * 1000, `ready only once it answered (${took} ms)`);
    await waitFor('idle in the table', async () => (await row.getAttribute('data-state')) === 'idle', T);
    await other.close();
  });

  test('a failed start on the gateway shows the gateway’s own reason in place', async () => {
    const env = page.locator('li.env[data-env="missing"]');
    await env.getByRole('button', { name: /Start a .* kernel/ }).click();
    const status = env.locator('.inline-launch');
    await waitFor('failed', async () => (await status.getAttribute('data-launch-status')) === 'failed', T);
    const text = await status.innerText();
    assert.match(text, /python9/, `the reason names the missing program: ${text}`);
    assert.doesNotMatch(text, /Unhandled error/);
    await screenshot(page, '17-03-gateway-start-failed');
    await status.getByRole('button', { name: 'Dismiss' }).click();
  });

  test('health follows the gateway: unreachable when it stops (Start off), reachable again when it is back', async () => {
    const card = page.locator(`.cluster-card[data-cluster-id="${clusterId}"]`);
    await waitFor('reachable', async () => /Reachable/.test(await card.innerText()), T);
    const port = upstream.port;
    await upstream.stop();
    await waitFor('unreachable', async () => /Unreachable/.test(await card.innerText()), 30_000);
    const start = page.locator('li.env[data-env="slow"]').getByRole('button', { name: /Start a .* kernel/ });
    assert.equal(await start.getAttribute('aria-disabled'), 'true');
    await page.getByTestId('cluster-unreachable').waitFor();
    assert.match(await page.getByLabel('New kernels start on').innerText(), /University \(unreachable\)/);
    await screenshot(page, '17-04-gateway-unreachable');
    upstream = await startUpstream(port);
    await waitFor('reachable again', async () => /Reachable/.test(await card.innerText()), 30_000);
    await waitFor('Start enabled', async () => (await start.getAttribute('aria-disabled')) === 'false');
  });

  test('the cluster form: Test sits with the connection, stale results go, clear hints for URL and values', async () => {
    await page.getByRole('button', { name: 'Clusters' }).click();
    await page.getByRole('button', { name: 'Add cluster' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Second');
    await page.getByLabel('Gateway URL').fill('127.0.0.1:9');
    await page.getByRole('button', { name: 'Test connection' }).click();
    assert.match(await page.locator('#cf-url-error').innerText(), /Start the URL with https:\/\//);
    assert.match(await page.locator('#form-error').innerText(), /then test again/);
    assert.doesNotMatch(await page.locator('#form-error').innerText(), /nothing was saved/);
    await page.getByLabel('Gateway URL').fill(upstream.url);
    await page.getByLabel('Token', { exact: true }).fill('wrong');
    await page.getByRole('button', { name: 'Test connection' }).click();
    const diag = page.locator('.diagnosis');
    await waitFor('401', async () => (await diag.getAttribute('data-kind')) === 'unauthorized', T);
    assert.doesNotMatch(await diag.innerText(), /CLI|--token-env/);
    // The result is right under the button, inside the first screenful.
    const box = await diag.boundingBox();
    assert.ok(box && box.y + box.height < 860, `diagnosis visible without scrolling (y=${box?.y})`);
    await screenshot(page, '17-06-form-test-result');
    await page.getByLabel('Token', { exact: true }).fill(token);
    assert.equal(await diag.count(), 0, 'the old result is gone once the token changed');
    // Token header and scheme live under Advanced; the type is not a disabled one-option dropdown.
    assert.equal(await page.locator('details.advanced #cf-hname').count(), 1);
    assert.equal(await page.locator('select#cf-type').count(), 0);
    await page.getByRole('button', { name: 'Add launch parameter' }).click();
    await page.getByPlaceholder('Parameter').fill('KERNEL_MEMORY');
    await page.getByPlaceholder('Value').fill('$(whoami)');
    await page.getByRole('button', { name: 'Save' }).click();
    const err = page.locator('fieldset.pairs .field-message');
    await err.waitFor();
    assert.match(await err.innerText(), /KERNEL_MEMORY .*4Gi/);
    await page.getByRole('button', { name: 'Cancel' }).click();
  });

  test('a wrong token gets the "not accepted" banner, not "Loading clusters…" forever', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const p = await ctx.newPage();
    await p.goto(`${serve.url}?token=wrong-${serve.token}`);
    await p.locator('.banner-error', { hasText: /not accepted/ }).waitFor({ timeout: 20_000 });
    await screenshot(p, '17-05-wrong-token');
    await ctx.close();
  });

  test('no page errors happened', () => {
    assert.deepEqual(pageErrors, []);
  });
});
