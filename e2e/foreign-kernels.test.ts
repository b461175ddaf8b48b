// Issue 17 item 6 (the rest), in Chromium against `npm run serve` with a token-protected Jupyter Server as the
// gateway: a kernel another client started straight on the gateway is offered under "Started elsewhere" on
// the Kernels screen; "Adopt" lists it in the table and the proxy under its own id.
import assert from 'node:assert/strict';
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

const T = 60_000;

describe('kernels another client started on a gateway (issue 17 item 6)', { timeout: 300_000 }, () => {
  let serve: ServeHandle;
  let upstream: JupyterServer;
  let browser: Browser;
  let closeBrowser: () => Promise<void> = async () => undefined;
  let page: Page;
  let foreignId = '';
  const pageErrors: string[] = [];
  const token = `up-${Math.random().toString(36).slice(2)}`;

  before(async () => {
    [serve, upstream] = await Promise.all([startServe(), startJupyterServer({ token })]);
    addGatewayByCli(serve, 'University', upstream.url, token);
    const b = await launchBrowser();
    browser = b.browser;
    closeBrowser = b.close;
    page = await openApp(browser, serve, { timeoutMs: T, pageErrors });
    await page.locator('.cluster-card', { hasText: 'University' }).waitFor();
  });

  after(async () => {
    await closeBrowser();
    await serve?.stop();
    await upstream?.stop();
  });

  test('a kernel started straight on the gateway is offered, and Adopt lists it in the app and the proxy', async () => {
    const r = await fetch(`${upstream.url.replace(/\/$/, '')}/api/kernels`, {
      method: 'POST',
      headers: { Authorization: `token ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'python3' }),
      signal: AbortSignal.timeout(T),
    });
    assert.equal(r.status, 201);
    foreignId = ((await r.json()) as { id: string }).id;
    await page.getByRole('button', { name: /^Kernels/ }).click();
    const offer = page.locator(`li[data-foreign-id="${foreignId}"]`);
    await offer.waitFor({ timeout: T });
    assert.match(await offer.innerText(), /python3 on University/);
    assert.equal(await page.locator(`tr[data-kernel-id="${foreignId}"]`).count(), 0, 'not listed before');
    await screenshot(page, '17-08-started-elsewhere');
    await offer.getByRole('button', { name: /^Adopt/ }).click();
    const row = page.locator(`tr[data-kernel-id="${foreignId}"]`);
    await row.waitFor({ timeout: T });
    assert.match(await row.innerText(), /University/);
    await waitFor('no longer offered', async () => (await offer.count()) === 0);
    const listed = await fetch(`${serve.url}api/kernels`, {
      headers: { Authorization: `token ${serve.token}` },
      signal: AbortSignal.timeout(T),
    });
    const ids = ((await listed.json()) as { id: string }[]).map((k) => k.id);
    assert.ok(ids.includes(foreignId), `the proxy lists the adopted kernel: ${ids.join(', ')}`);
  });

  test('the adopted kernel shuts down from the table, upstream too', async () => {
    const row = page.locator(`tr[data-kernel-id="${foreignId}"]`);
    await row.getByRole('button', { name: 'Shut down' }).click();
    await row.getByRole('button', { name: 'Confirm shut down' }).click();
    await waitFor('gone from the table', async () => (await row.count()) === 0, T);
    await waitFor(
      'gone upstream',
      async () => {
        const r = await fetch(`${upstream.url.replace(/\/$/, '')}/api/kernels`, {
          headers: { Authorization: `token ${token}` },
          signal: AbortSignal.timeout(T),
        });
        return !((await r.json()) as { id: string }[]).some((k) => k.id === foreignId);
      },
      T,
    );
  });

  test('no page errors happened', () => {
    assert.deepEqual(pageErrors, []);
  });
});
