// The UI in a real browser (Debian Chromium via playwright-core) against `npm run serve` with the real
// backend and real ipykernels. No fake API: every click goes through the host API WebSocket to the registry.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KernelManager, ServerConnection, type Kernel } from '@jupyterlab/services';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import WebSocket from 'ws';
import { launchBrowser, screenshot, startServe, waitFor, type ServeHandle } from './helpers';

const T = 60_000;

interface KernelRow {
  id: string;
  state: string;
}

async function kernelRows(page: Page): Promise<KernelRow[]> {
  return page.$$eval('tr[data-kernel-id]', (rows) =>
    rows.map((r) => ({
      id: r.getAttribute('data-kernel-id') ?? '',
      state: r.getAttribute('data-state') ?? '',
    })),
  );
}

async function apiKernels(serve: ServeHandle): Promise<{ id: string; execution_state: string }[]> {
  const res = await fetch(`${serve.url}api/kernels`, { headers: { Authorization: `token ${serve.token}` } });
  return (await res.json()) as { id: string; execution_state: string }[];
}

describe('browser UI against npm run serve (real backend, real ipykernel)', { timeout: 600_000 }, () => {
  let serve: ServeHandle;
  let closeBrowser: () => Promise<void> = async () => undefined;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let firstKernel = '';
  let outside: KernelManager | null = null;
  let outsideKernel: Kernel.IKernelConnection | null = null;
  const pageErrors: string[] = [];
  const cleanups: (() => void)[] = [];

  before(async () => {
    // A kernelspec whose program does not exist: its launch must fail with a reason the UI shows.
    const jupyterPath = mkdtempSync(join(tmpdir(), 'gd-e2e-kernels-'));
    mkdirSync(join(jupyterPath, 'kernels', 'broken'), { recursive: true });
    writeFileSync(
      join(jupyterPath, 'kernels', 'broken', 'kernel.json'),
      JSON.stringify({
        argv: ['/nonexistent/bin/python9', '-m', 'ipykernel_launcher', '-f', '{connection_file}'],
        display_name: 'Broken Python',
        language: 'python',
      }),
    );
    cleanups.push(() => rmSync(jupyterPath, { recursive: true, force: true }));
    serve = await startServe({ env: { JUPYTER_PATH: jupyterPath } });
    const b = await launchBrowser();
    closeBrowser = b.close;
    browser = b.browser;
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    page.setDefaultTimeout(T);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('response', (r) => {
      if (r.status() === 404) pageErrors.push(`404 for ${r.url()}`);
    });
    page.on('console', (m) => {
      // The sandbox refusing the kernel's <script> is the expected outcome, not an app error.
      // (and the 503 of the "building the UI" page serve shows while it builds in the background).
      if (m.type() === 'error' && !m.text().includes('sandboxed') && !m.text().includes('503'))
        pageErrors.push(`console: ${m.text()}`);
    });
  });

  after(async () => {
    outsideKernel?.dispose();
    outside?.dispose();
    await closeBrowser();
    await serve?.stop();
    for (const c of cleanups) c();
  });

  test('first run shows "This computer" (active) and its python3 environment; the token leaves the URL', async () => {
    await page.goto(`${serve.url}?token=${serve.token}`);
    await page.getByRole('heading', { name: 'Clusters', level: 1 }).waitFor();
    const card = page.locator('.cluster-card', { hasText: 'This computer' });
    await card.waitFor();
    assert.match(await card.innerText(), /Active/);
    const env = page.locator('li.env[data-env="python3"]');
    await env.waitFor();
    assert.match(await env.innerText(), /python/i);
    assert.ok(await env.locator('img.env-logo').count(), 'the kernelspec logo is shown');
    assert.ok(!page.url().includes('token='), `token removed from the address bar: ${page.url()}`);
    // CSP is set by the page (meta) and by the server (header).
    const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    assert.match(csp ?? '', /default-src 'self'/);
    assert.doesNotMatch(csp ?? '', /unsafe-eval/);
    await screenshot(page, '01-clusters-first-run');
  });

  test('starting a kernel from the UI shows launch progress and the kernel becomes idle', async () => {
    await page
      .locator('li.env[data-env="python3"]')
      .getByRole('button', { name: /Start a .* kernel/ })
      .click();
    await page.getByRole('button', { name: /^Kernels/ }).click();
    const row = await waitFor(
      'a kernel row',
      async () => (await kernelRows(page)).find((r) => r.state === 'idle'),
      T,
    );
    firstKernel = row.id;
    const text = await page.locator(`tr[data-kernel-id="${firstKernel}"]`).innerText();
    assert.match(text, /Idle/);
    assert.match(text, /This computer/);
    assert.match(text, /Python 3/);
    const api = await apiKernels(serve);
    assert.ok(
      api.some((k) => k.id === firstKernel),
      'the proxy lists the same kernel',
    );
    await screenshot(page, '02-kernels-table');
  });

  test('a launch that cannot start shows its phases and the reason, and leaves no kernel', async () => {
    await page.getByRole('button', { name: 'Clusters' }).click();
    await page
      .locator('li.env[data-env="broken"]')
      .getByRole('button', { name: /Start a .* kernel/ })
      .click();
    await page.getByRole('button', { name: /^Kernels/ }).click();
    const card = page.locator('li.launch[data-launch-status="failed"]');
    await card.waitFor({ timeout: T });
    const text = await card.innerText();
    assert.match(text, /Could not start Broken Python/);
    assert.match(text, /python9/, `the reason names the program: ${text}`);
    await screenshot(page, '02b-launch-failed');
    await card.getByRole('button', { name: 'Dismiss' }).click();
    assert.deepEqual(
      (await kernelRows(page)).map((r) => r.id),
      [firstKernel],
    );
  });

  test('console: output, errors with traceback, HTML in a sandboxed frame, images', async () => {
    await page
      .locator(`tr[data-kernel-id="${firstKernel}"]`)
      .getByRole('button', { name: 'Console' })
      .click();
    await page.getByRole('heading', { name: 'Console', level: 1 }).waitFor();
    const input = page.locator('#console-code');
    const run = async (code: string) => {
      const before = await page.locator('li.entry').count();
      await input.fill(code);
      await page.getByRole('button', { name: 'Run', exact: true }).click();
      await waitFor('the run to finish', async () => {
        const n = await page.locator('li.entry').count();
        if (n <= before) return false;
        const status = await page.locator('li.entry').last().getAttribute('data-status');
        return status !== 'running' && status !== 'sending' ? status : false;
      });
      return page.locator('li.entry').last();
    };
    let entry = await run('print(6*7)');
    assert.match(await entry.innerText(), /42/);
    entry = await run('1/0');
    const err = await entry.innerText();
    assert.match(err, /ZeroDivisionError/);
    assert.match(err, /Traceback|division by zero/);
    assert.ok(!err.includes('\u001b['), 'ANSI colour codes are stripped');
    entry = await run(
      'from IPython.display import HTML, display\ndisplay(HTML(\'<b id="x">bold</b><script>parent.document.title="pwned"</script>\'))',
    );
    const frame = entry.locator('iframe.html-output');
    await frame.waitFor();
    assert.equal(await frame.getAttribute('sandbox'), 'allow-same-origin', 'no allow-scripts');
    assert.match((await frame.getAttribute('srcdoc')) ?? '', /<b id="x">bold<\/b>/);
    assert.notEqual(await page.title(), 'pwned', 'scripts in kernel HTML do not run');
    const png =
      'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAFklEQVR4nGP8z8DwnwEIGBkZGRgZAQAaGAMAuo0pmgAAAABJRU5ErkJggg==';
    entry = await run(
      `from IPython.display import Image, display\nimport base64\ndisplay(Image(data=base64.b64decode('${png}')))`,
    );
    const img = entry.locator('.out-display img');
    await img.waitFor();
    assert.match((await img.getAttribute('src')) ?? '', /^data:image\/png;base64,/);
    await screenshot(page, '03-console');
  });

  test('console: time.sleep(2) turns the badge busy, then idle, without a reload', async () => {
    const badge = page.locator('.console-bar .badge');
    await waitFor('idle before', async () => (await badge.getAttribute('data-state')) === 'idle');
    // Record every state the badge shows (a busy phase of 2 s must not depend on polling speed).
    await page.evaluate(`(() => {
      const seen = (window.__badgeStates = []);
      const bar = document.querySelector('.console-bar');
      const note = () => {
        const s = bar.querySelector('.badge')?.getAttribute('data-state');
        if (s && seen[seen.length - 1] !== s) seen.push(s);
      };
      note();
      new MutationObserver(note).observe(bar, { subtree: true, childList: true, attributes: true });
    })()`);
    await page.locator('#console-code').fill('import time; time.sleep(2)');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const states = async () => (await page.evaluate('window.__badgeStates')) as string[];
    await waitFor(
      'busy then idle',
      async () => {
        const seen = await states();
        const busy = seen.indexOf('busy');
        return busy >= 0 && seen.slice(busy + 1).includes('idle');
      },
      30_000,
    );
    assert.equal(await page.locator('li.entry').last().getAttribute('data-status'), 'ok');
    assert.equal(page.url().includes('#console'), true, 'same page, no reload');
    // And the kernels table agrees (same store, pushed events).
    await page.getByRole('button', { name: /^Kernels/ }).click();
    const row = page.locator(`tr[data-kernel-id="${firstKernel}"]`);
    assert.equal(await row.getAttribute('data-state'), 'idle');
  });

  test('a kernel started by an outside client (@jupyterlab/services) appears in the table live', async () => {
    const serverSettings = ServerConnection.makeSettings({
      baseUrl: serve.url,
      wsUrl: serve.url.replace(/^http/, 'ws'),
      token: serve.token,
      appendToken: true,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      fetch: globalThis.fetch,
      Request: globalThis.Request,
      Headers: globalThis.Headers,
    });
    outside = new KernelManager({ serverSettings });
    await outside.ready;
    outsideKernel = await outside.startNew({ name: 'python3' });
    const id = outsideKernel.id;
    const row = await waitFor(
      'the outside kernel row',
      async () => (await kernelRows(page)).find((r) => r.id === id),
      T,
    );
    assert.ok(row);
    await waitFor(
      'outside kernel idle',
      async () => (await kernelRows(page)).find((r) => r.id === id)?.state === 'idle',
      T,
    );
    // Its connection shows up too.
    await waitFor('connections >= 1', async () => {
      const t = await page.locator(`tr[data-kernel-id="${id}"] td.num`).innerText();
      return Number(t) >= 1;
    });
    await screenshot(page, '04-kernels-live-outside-client');
  });

  test('interrupting a long run from the UI stops it (KeyboardInterrupt) and the kernel is idle again', async () => {
    await page
      .locator(`tr[data-kernel-id="${firstKernel}"]`)
      .getByRole('button', { name: 'Console' })
      .click();
    const badge = page.locator('.console-bar .badge');
    await page.locator('#console-code').fill('import time\nfor i in range(600):\n    time.sleep(0.1)');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await waitFor('busy', async () => (await badge.getAttribute('data-state')) === 'busy', 15_000, 50);
    await page.locator('.console-bar').getByRole('button', { name: 'Interrupt' }).click();
    const last = page.locator('li.entry').last();
    await waitFor('the run to end', async () => (await last.getAttribute('data-status')) === 'error', 20_000);
    assert.match(await last.innerText(), /KeyboardInterrupt/);
    await waitFor('idle', async () => (await badge.getAttribute('data-state')) === 'idle', 20_000);
  });

  test('restarting from the table: back to idle, and the console starts counting again', async () => {
    await page.getByRole('button', { name: /^Kernels/ }).click();
    const row = page.locator(`tr[data-kernel-id="${firstKernel}"]`);
    // Record every state the row shows: the row is idle *before* the restart takes effect too, so "idle"
    // alone would not prove the restart finished (a run sent then is aborted by the restart, rightly).
    // (A string, not a function: tsx would wrap a function in helpers the page does not have.)
    await page.evaluate(`(() => {
      window.__rowStates = [];
      const note = () => {
        const s = document.querySelector('tr[data-kernel-id="${firstKernel}"]')?.getAttribute('data-state');
        if (s && window.__rowStates[window.__rowStates.length - 1] !== s) window.__rowStates.push(s);
      };
      note();
      new MutationObserver(note).observe(document.body, {
        subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'],
      });
    })()`);
    await row.getByRole('button', { name: 'Restart' }).click();
    await row.getByRole('button', { name: 'Confirm restart' }).click();
    const rowStates = async (): Promise<string[]> => (await page.evaluate('window.__rowStates')) as string[];
    await waitFor(
      'restarting, then idle',
      async () => {
        const seen = await rowStates();
        const r = seen.indexOf('restarting');
        return r >= 0 && seen.slice(r + 1).includes('idle');
      },
      T,
    );
    await row.getByRole('button', { name: 'Console' }).click();
    await page.locator('#console-code').fill('x = "after restart"; print(x)');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const last = page.locator('li.entry').last();
    const status = await waitFor(
      'the run to end',
      async () => {
        const s = await last.getAttribute('data-status');
        return s && s !== 'running' && s !== 'sending' ? s : null;
      },
      T,
    );
    const text = await last.innerText();
    assert.equal(status, 'ok', `the run after restart ended ${status}: ${text}`);
    assert.match(text, /after restart/);
    assert.match(text, /In \[1\]/, 'a fresh kernel counts from 1');
  });

  test('shutting a kernel down from the table removes it everywhere', async () => {
    await page.getByRole('button', { name: /^Kernels/ }).click();
    const row = page.locator(`tr[data-kernel-id="${firstKernel}"]`);
    await row.getByRole('button', { name: 'Shut down' }).click();
    await row.getByRole('button', { name: 'Confirm shut down' }).click();
    await waitFor('row gone', async () => !(await kernelRows(page)).some((r) => r.id === firstKernel), T);
    const api = await apiKernels(serve);
    assert.ok(!api.some((k) => k.id === firstKernel), 'the proxy no longer lists it');
  });

  test('adding a cluster with a bad URL shows clear inline errors and saves nothing', async () => {
    await page.getByRole('button', { name: 'Clusters' }).click();
    await page.getByRole('button', { name: 'Add cluster' }).click();
    await page.getByRole('heading', { name: 'Add a cluster' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('University gateway');
    await page.getByLabel('Gateway URL').fill('gateway.example.edu:8888 oops');
    await page.getByRole('button', { name: 'Save' }).click();
    const urlError = page.locator('#cf-url-error');
    await urlError.waitFor();
    assert.match(await urlError.innerText(), /not a URL|http/i);
    assert.equal(await page.getByLabel('Gateway URL').getAttribute('aria-invalid'), 'true');
    assert.match(await page.locator('#form-error').innerText(), /nothing was saved/i);
    await screenshot(page, '05-add-cluster-invalid');

    // A well-formed URL where nothing listens: "Test connection" explains, still nothing saved.
    await page.getByLabel('Gateway URL').fill('http://127.0.0.1:9');
    await page.getByRole('button', { name: 'Test connection' }).click();
    const diag = page.locator('.diagnosis');
    await diag.waitFor({ timeout: T });
    const text = await diag.innerText();
    assert.match(text, /refused|not reachable|nothing|could not/i);
    assert.equal(await diag.getAttribute('data-kind'), 'refused');
    await screenshot(page, '06-add-cluster-test-connection');
    await page.getByRole('button', { name: 'Cancel' }).click();

    const file = join(serve.dataDir, 'clusters.json');
    if (existsSync(file)) {
      const data = JSON.parse(readFileSync(file, 'utf8')) as { clusters: { name: string }[] };
      assert.deepEqual(
        data.clusters.map((c) => c.name),
        ['This computer'],
        'no broken cluster was saved',
      );
    }
    const cards = await page.locator('.cluster-card').count();
    assert.equal(cards, 1);
  });

  test('JupyterLab screen: proxy URL, token and a ready-to-copy command', async () => {
    await page.getByRole('button', { name: 'JupyterLab' }).click();
    await page.getByRole('heading', { name: 'JupyterLab', level: 1 }).waitFor();
    assert.equal(await page.locator('#proxy-url').innerText(), serve.url.replace(/\/$/, ''));
    await page.getByRole('button', { name: 'Show' }).click();
    const cmd = await page.locator('#proxy-command').innerText();
    assert.equal(
      cmd,
      `jupyter lab --gateway-url=${serve.url.replace(/\/$/, '')} --GatewayClient.auth_token=${serve.token}`,
    );
    await page.getByRole('button', { name: 'Hide' }).click();
    await screenshot(page, '07-jupyterlab');
  });

  test('settings and the app log', async () => {
    await page.getByRole('button', { name: 'Settings & log' }).click();
    await page.getByRole('heading', { name: 'Log', exact: true }).waitFor();
    await waitFor('log lines', async () => (await page.locator('.log-list li').count()) > 0);
    assert.match(await page.locator('.log-list').innerText(), /kernel/i);
    await page.getByLabel('Appearance').selectOption('dark');
    await waitFor(
      'dark theme',
      async () => (await page.locator('html').getAttribute('data-theme')) === 'dark',
    );
    const bodyBg = (): Promise<string> => page.evaluate('getComputedStyle(document.body).backgroundColor');
    assert.equal(await bodyBg(), 'rgb(20, 23, 28)', 'the dark palette is painted');
    await screenshot(page, '08-settings-log-dark');
    await page.getByRole('button', { name: 'Kernels' }).click();
    await screenshot(page, '09-kernels-dark');
    await page.getByRole('button', { name: 'Settings & log' }).click();
    // "Follow the system": the OS setting decides, both ways.
    await page.getByLabel('Appearance').selectOption('system');
    await page.emulateMedia({ colorScheme: 'dark' });
    await waitFor('dark from the OS', async () => (await bodyBg()) === 'rgb(20, 23, 28)');
    await page.emulateMedia({ colorScheme: 'light' });
    await waitFor('light from the OS', async () => (await bodyBg()) === 'rgb(246, 247, 249)');
    await page.emulateMedia({ colorScheme: null });
  });

  test('keyboard: the main screens are reachable with Tab + Enter', async () => {
    await page.getByRole('button', { name: 'Clusters' }).focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Kernels', level: 1 }).waitFor();
    const focused = String(
      await page.evaluate("document.activeElement ? document.activeElement.textContent : ''"),
    );
    assert.match(focused, /Kernels/);
  });

  test('a new tab without ?token= gets in with the cookie; a fresh browser profile is told what to do', async () => {
    const tab = await context.newPage();
    await tab.goto(serve.url);
    await tab.locator('.cluster-card', { hasText: 'This computer' }).waitFor({ timeout: T });
    await tab.close();
    const other = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const stranger = await other.newPage();
    await stranger.goto(serve.url);
    const banner = stranger.locator('.banner-error', { hasText: /access token/i });
    await banner.waitFor({ timeout: T });
    await screenshot(stranger, '15-no-token');
    await other.close();
  });

  test('no page errors happened', () => {
    assert.deepEqual(pageErrors, []);
  });
});
