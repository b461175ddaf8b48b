// Issue 17 item 8, the console with a real ipykernel in Chromium against `npm run serve`: input() answered from
// the console, a run queued while the kernel is busy, Ctrl+C interrupts, restart asks first, leaves a marker
// and resets the uptime, the console counts as a connection, Image(width=64) is 64 px wide, and HTML output
// is sized to its content without a white box in dark mode.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { SCREENSHOTS, launchBrowser, screenshot, startServe, waitFor, type ServeHandle } from './helpers';

const T = 60_000;

describe('console (issue 17 item 8)', { timeout: 300_000 }, () => {
  let serve: ServeHandle;
  let closeBrowser: () => Promise<void> = async () => undefined;
  let page: Page;
  let kernelId = '';
  const pageErrors: string[] = [];

  const entries = () => page.locator('li.entry:not(.entry-marker)');
  const statusOf = async (i: number) => entries().nth(i).getAttribute('data-status');
  const submit = async (code: string) => {
    await page.locator('#console-code').fill(code);
    await page.locator('#console-code').press('Shift+Enter');
  };
  const runToEnd = async (code: string) => {
    const n = await entries().count();
    await submit(code);
    await waitFor('the run to end', async () => {
      if ((await entries().count()) <= n) return false;
      const s = await statusOf(n);
      return s !== 'running' && s !== 'sending';
    });
    return entries().nth(n);
  };

  before(async () => {
    serve = await startServe();
    const b = await launchBrowser();
    closeBrowser = b.close;
    page = await b.browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.setDefaultTimeout(T);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${serve.url}?token=${serve.token}`);
    const env = page.locator('li.env[data-env="python3"]');
    await env.getByRole('button', { name: /Start a .* kernel/ }).click();
    const status = env.locator('.inline-launch[data-launch-status="done"]');
    await status.waitFor({ timeout: T });
    await status.getByRole('button', { name: 'Open in console' }).click();
    kernelId = await page.locator('#console-kernel').inputValue();
    await waitFor(
      'idle',
      async () => (await page.locator('.console-bar .badge').getAttribute('data-state')) === 'idle',
    );
    // One plain run first, so the console's port is connected on every channel before input() is tested. Known
    // bug (open): a first cell that calls input() on a brand-new port can hang, because the kernel's stdin ROUTER
    // drops an input_request for a peer whose handshake has not completed (failed 1 CI run in 4).
    await runToEnd('pass');
  });

  after(async () => {
    await closeBrowser();
    await serve?.stop();
  });

  test('input() is answered from the console', async () => {
    const n = await entries().count();
    await submit('name = input("Your name: ")\nprint("hello", name)');
    const answer = page.getByLabel('Answer to: Your name:');
    await answer.waitFor({ timeout: T });
    assert.equal(await page.evaluate('document.activeElement?.id?.startsWith("stdin-")'), true);
    await answer.fill('Ada');
    await answer.press('Enter');
    await waitFor('ok', async () => (await statusOf(n)) === 'ok');
    const text = await entries().nth(n).innerText();
    assert.match(text, /Your name: Ada/);
    assert.match(text, /hello Ada/);
  });

  test('a run sent while the kernel is busy queues and runs after', async () => {
    const n = await entries().count();
    await submit('import time; time.sleep(2); print("first")');
    await waitFor(
      'busy',
      async () => (await page.locator('.console-bar .badge').getAttribute('data-state')) === 'busy',
    );
    await submit('print("second")');
    await waitFor(
      'queued mark',
      async () =>
        (await entries()
          .nth(n + 1)
          .getAttribute('data-queued')) === 'true',
    );
    await screenshot(page, '17-07-console-queued');
    await waitFor('both ok', async () => (await statusOf(n)) === 'ok' && (await statusOf(n + 1)) === 'ok', T);
    assert.match(
      await entries()
        .nth(n + 1)
        .innerText(),
      /second/,
    );
  });

  test('Ctrl+C in the editor interrupts the running code', async () => {
    const n = await entries().count();
    await submit('import time\nfor i in range(600):\n    time.sleep(0.1)');
    await waitFor(
      'busy',
      async () => (await page.locator('.console-bar .badge').getAttribute('data-state')) === 'busy',
    );
    await page.locator('#console-code').press('Control+c');
    await waitFor('interrupted', async () => (await statusOf(n)) === 'error', 20_000);
    assert.match(await entries().nth(n).innerText(), /KeyboardInterrupt/);
  });

  test('Image(width=64) is 64 px wide; HTML is sized to its content, without a white box in dark mode', async () => {
    const png =
      'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAFklEQVR4nGP8z8DwnwEIGBkZGRgZAQAaGAMAuo0pmgAAAABJRU5ErkJggg==';
    let entry = await runToEnd(
      `from IPython.display import Image, display\nimport base64\ndisplay(Image(data=base64.b64decode('${png}'), width=64))`,
    );
    const img = entry.locator('.out-display img');
    await img.waitFor();
    assert.equal(Math.round((await img.boundingBox())?.width ?? 0), 64);
    await page.emulateMedia({ colorScheme: 'dark' });
    entry = await runToEnd(
      'from IPython.display import HTML, display\ndisplay(HTML("<table>" + "".join(f"<tr><td>row {i}</td></tr>" for i in range(12)) + "</table>"))',
    );
    const frame = entry.locator('iframe.html-output');
    await frame.waitFor();
    await waitFor('sized to the table', async () => ((await frame.boundingBox())?.height ?? 0) > 200);
    const bg = await frame.evaluate(
      'getComputedStyle(document.querySelector("iframe.html-output:last-of-type").contentDocument.body).backgroundColor',
    );
    assert.equal(bg, 'rgba(0, 0, 0, 0)', 'transparent: the dark panel shows through');
    await screenshot(page, '17-08-console-dark-html');
    await page.emulateMedia({ colorScheme: null });
  });

  test('the console counts as a connection; restart asks first, leaves a marker and resets the uptime', async () => {
    await page.getByRole('button', { name: /^Kernels/ }).click();
    const row = page.locator(`tr[data-kernel-id="${kernelId}"]`);
    await waitFor('1 connection', async () => Number(await row.locator('td.num').innerText()) >= 1);
    await page.locator('.sidenav').getByRole('button', { name: 'Console' }).click();
    await page.locator('.console-bar').getByRole('button', { name: 'Restart' }).click();
    await page.getByRole('button', { name: 'Yes, restart' }).click();
    await page.locator('li.entry-marker', { hasText: 'Kernel restarted' }).waitFor({ timeout: T });
    await page.getByRole('button', { name: /^Kernels/ }).click();
    const uptime = await row.locator('td').nth(3).innerText();
    assert.match(uptime, /^\d s$/, `uptime starts again after the restart: ${uptime}`);
  });

  test('at 900×600 the sidebar folds away and Run stays on screen, in each theme', async () => {
    await page.setViewportSize({ width: 900, height: 600 });
    await page.locator('.sidenav').getByRole('button', { name: 'Console' }).click();
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const nav = await page.locator('.sidenav').boundingBox();
      assert.ok(nav && nav.width > 600, `the navigation runs across the top (width ${nav?.width})`);
      const run = await page.getByRole('button', { name: 'Run', exact: true }).boundingBox();
      assert.ok(run && run.y + run.height <= 600, `Run is above the fold (y=${run?.y})`);
      await page.screenshot({ path: `${SCREENSHOTS}/17-09-900x600-${scheme}.png` });
    }
    await page.emulateMedia({ colorScheme: null });
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  test('no page errors happened', () => {
    assert.deepEqual(pageErrors, []);
  });
});
