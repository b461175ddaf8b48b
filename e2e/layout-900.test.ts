// Issue 17 item 10 (the rest), in Chromium against `npm run serve` at 900×600: a kernel row's actions sit in
// one row (icons, named for screen readers), and the Clusters and Kernels screens are shot in both themes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { SCREENSHOTS, launchBrowser, openApp, startServe, type ServeHandle } from './helpers';
import { mkdirSync } from 'node:fs';

const T = 60_000;

describe(
  '900×600: kernel actions in one row, Clusters and Kernels in both themes (issue 17 item 10)',
  { timeout: 300_000 },
  () => {
    let serve: ServeHandle;
    let browser: Browser;
    let closeBrowser: () => Promise<void> = async () => undefined;
    let page: Page;
    let kernelId = '';
    const pageErrors: string[] = [];
    const auth = () => ({ Authorization: `token ${serve.token}` });

    before(async () => {
      serve = await startServe();
      const b = await launchBrowser();
      browser = b.browser;
      closeBrowser = b.close;
      page = await openApp(browser, serve, { width: 900, height: 600, timeoutMs: T, pageErrors });
      const r = await fetch(`${serve.url}api/kernels`, {
        method: 'POST',
        headers: { ...auth(), 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'python3' }),
        signal: AbortSignal.timeout(T),
      });
      assert.equal(r.status, 201);
      kernelId = ((await r.json()) as { id: string }).id;
    });

    after(async () => {
      if (kernelId)
        await fetch(`${serve.url}api/kernels/${kernelId}`, {
          method: 'DELETE',
          headers: auth(),
          signal: AbortSignal.timeout(T),
        }).catch(() => undefined);
      await closeBrowser();
      await serve?.stop();
    });

    test('the four actions of a kernel row sit in one row, each named, inside the window', async () => {
      await page.getByRole('button', { name: /^Kernels/ }).click();
      const row = page.locator(`tr[data-kernel-id="${kernelId}"]`);
      await row.waitFor();
      const buttons = row.locator('.row-actions button');
      assert.equal(await buttons.count(), 4);
      const boxes = await Promise.all([0, 1, 2, 3].map((i) => buttons.nth(i).boundingBox()));
      const tops = boxes.map((b) => Math.round(b?.y ?? -1));
      assert.ok(
        tops.every((t) => t >= 0 && Math.abs(t - tops[0]) <= 1),
        `one row: ${tops.join(', ')}`,
      );
      const right = Math.max(...boxes.map((b) => (b ? b.x + b.width : 0)));
      assert.ok(right <= 900, `inside the window (right edge ${right})`);
      for (const name of ['Console', 'Interrupt', 'Restart', 'Shut down'])
        assert.equal(await row.getByRole('button', { name, exact: true }).count(), 1, name);
      // The confirmation stays in place, with words.
      await row.getByRole('button', { name: 'Shut down', exact: true }).click();
      await row.getByRole('button', { name: 'Confirm shut down' }).waitFor();
      await row.getByRole('button', { name: 'Cancel' }).click();
      await row.getByRole('button', { name: 'Shut down', exact: true }).waitFor();
    });

    test('screenshots of Clusters and Kernels at 900×600 in each theme', async () => {
      mkdirSync(SCREENSHOTS, { recursive: true });
      for (const scheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.getByRole('button', { name: /^Clusters/ }).click();
        await page.locator('li.env[data-env="python3"]').waitFor();
        await page.screenshot({ path: `${SCREENSHOTS}/17-10-clusters-900x600-${scheme}.png` });
        await page.getByRole('button', { name: /^Kernels/ }).click();
        await page.locator(`tr[data-kernel-id="${kernelId}"]`).waitFor();
        await page.screenshot({ path: `${SCREENSHOTS}/17-10-kernels-900x600-${scheme}.png` });
      }
      await page.emulateMedia({ colorScheme: null });
    });

    test('no page errors happened', () => {
      assert.deepEqual(pageErrors, []);
    });
  },
);
