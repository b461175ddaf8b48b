// Issue 17 items 7 and 9, in Chromium against `npm run serve`: JupyterLab missing (said once, not as an
// error, install steps, a way to the "JupyterLab command" setting), the running lab's address copied,
// Settings Save confirmed, and the log: a kernel started through the proxy's REST API by another client,
// a JupyterLab stop, repeated failed tests logged once, and "Copy all".
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, screenshot, startServe, waitFor, type ServeHandle } from './helpers';

const T = 60_000;

describe('JupyterLab missing, settings and the log (issue 17 items 7, 9)', { timeout: 300_000 }, () => {
  let serve: ServeHandle;
  let browser: Browser;
  let ctx: BrowserContext;
  let closeBrowser: () => Promise<void> = async () => undefined;
  let page: Page;
  const pageErrors: string[] = [];

  const logLines = async (): Promise<string[]> => page.locator('ol.log-list li').allInnerTexts();
  const clipboard = (): Promise<string> => page.evaluate('navigator.clipboard.readText()') as Promise<string>;

  before(async () => {
    // An empty PATH for JupyterLab: only system directories, where this machine has no jupyter-lab.
    serve = await startServe({ env: { PATH: '/usr/local/bin:/usr/bin:/bin' } });
    const b = await launchBrowser();
    browser = b.browser;
    closeBrowser = b.close;
    ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], {
      origin: serve.url.replace(/\/$/, ''),
    });
    page = await ctx.newPage();
    page.setDefaultTimeout(T);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${serve.url}?token=${serve.token}`);
    await page.locator('li.env[data-env="python3"]').waitFor();
  });

  after(async () => {
    await page
      ?.evaluate('1')
      .then(() => undefined)
      .catch(() => undefined);
    await closeBrowser();
    await serve?.stop();
  });

  test('no JupyterLab: said once, not as an error, with install steps and the way to the setting', async () => {
    await page.getByRole('button', { name: 'JupyterLab', exact: true }).click();
    await page.getByRole('button', { name: 'Open JupyterLab' }).click();
    const status = page.locator('.lab-status');
    await waitFor('not installed', async () =>
      (await status.getAttribute('class'))?.includes('lab-not-installed'),
    );
    const text = await page.locator('main').innerText();
    assert.equal(text.match(/not installed/g)?.length, 1, `said once: ${text}`);
    assert.doesNotMatch(text, /No JupyterLab was found/);
    assert.doesNotMatch(text, /npm run lab|--command/);
    const color = await page.evaluate("getComputedStyle(document.querySelector('.lab-status')).color");
    const danger = await page.evaluate(
      "(() => { const p = document.createElement('p'); p.style.color = 'var(--danger)'; document.body.append(p); const c = getComputedStyle(p).color; p.remove(); return c; })()",
    );
    assert.notEqual(color, danger, 'not shown in the error colour');
    const steps = await page.locator('#lab-install').innerText();
    assert.match(steps, /pip install jupyterlab/);
    assert.match(steps, /conda install -c conda-forge jupyterlab/);
    assert.match(steps, /apt install/, 'the OS package on Linux');
    assert.match(text, /"JupyterLab command" in Settings/);
    await screenshot(page, '17-07-lab-not-installed');
    await page.getByRole('button', { name: 'Set the JupyterLab command…' }).click();
    await waitFor('focus in the command field', () =>
      page.evaluate('document.activeElement?.id === "set-cmd"'),
    );
    const ph = (await page.locator('#set-cmd').getAttribute('placeholder')) ?? '';
    assert.doesNotMatch(ph, /found automatically/);
  });

  test('Save says "Saved"; the lab runs with the set command, its address copies, its stop is logged', async () => {
    await page.locator('#set-cmd').fill('python3 -m jupyter_server');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await waitFor('Saved', async () => (await page.getByTestId('settings-saved').innerText()) === 'Saved');
    await screenshot(page, '17-09-settings-saved');
    await page.getByRole('button', { name: 'JupyterLab', exact: true }).click();
    await page.getByRole('button', { name: 'Open JupyterLab' }).click();
    const copy = page.getByRole('button', { name: 'Copy address' });
    await copy.waitFor({ timeout: T });
    await copy.click();
    await page.locator('.lab-status .copy-row button', { hasText: 'Copied' }).waitFor();
    const url = await clipboard();
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/.*token=\w+/, `the address with its token: ${url}`);
    await page.getByRole('button', { name: 'Stop JupyterLab' }).click();
    await page.getByRole('button', { name: 'Open JupyterLab' }).waitFor();
    await page.getByRole('button', { name: /^Settings/ }).click();
    await waitFor('stop logged', async () =>
      (await logLines()).some((l) => /lab\s+JupyterLab stopped/.test(l)),
    );
  });

  test('a kernel started through the proxy REST API by another client is logged', async () => {
    await page.getByRole('button', { name: /^Settings/ }).click();
    const r = await fetch(`${serve.url}api/kernels`, {
      method: 'POST',
      headers: { Authorization: `token ${serve.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'python3' }),
      signal: AbortSignal.timeout(T),
    });
    assert.equal(r.status, 201);
    const { id } = (await r.json()) as { id: string };
    await waitFor(
      'outside kernel logged',
      async () =>
        (await logLines()).some((l) => l.includes(`kernel ${id.slice(0, 8)}`) && /another client/.test(l)),
      T,
    );
    const d = await fetch(`${serve.url}api/kernels/${id}`, {
      method: 'DELETE',
      headers: { Authorization: `token ${serve.token}` },
      signal: AbortSignal.timeout(T),
    });
    assert.equal(d.status, 204);
  });

  test('three failed tests of the same address are logged once; the log copies whole', async () => {
    await page.getByRole('button', { name: 'Clusters' }).click();
    await page.getByRole('button', { name: 'Add cluster' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Nowhere');
    await page.getByLabel('Gateway URL').fill('http://127.0.0.1:9');
    const testBtn = page.getByRole('button', { name: /Test connection|Testing…/ });
    for (let i = 0; i < 3; i++) {
      await testBtn.click();
      await page.locator('.diagnosis[data-kind="refused"]').waitFor({ timeout: T });
      await waitFor('test done', async () => (await testBtn.innerText()) === 'Test connection');
    }
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: /^Settings/ }).click();
    const tests = (await logLines()).filter((l) => /test connection/.test(l));
    assert.equal(tests.length, 1, `logged once: ${tests.join('\n')}`);
    const copyAll = page.getByRole('button', { name: 'Copy all' });
    await copyAll.click();
    await page.locator('section[aria-labelledby="log-title"] button', { hasText: 'Copied' }).waitFor();
    const text = await clipboard();
    assert.match(text, /WARN \[clusters\] test connection/);
    assert.match(text, /\[lab\] JupyterLab stopped/);
    assert.match(text, /another client/);
    await screenshot(page, '17-09-log');
  });

  test('no page errors happened', () => {
    assert.deepEqual(pageErrors, []);
  });
});
