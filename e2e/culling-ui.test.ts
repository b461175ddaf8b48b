// Issue 14 item 4 in the UI: idle culling set on "This computer" with `npm run cluster -- set` (the running
// app reads it from clusters.json), the Kernels table says when an idle kernel will be shut down, the
// kernel goes once idle that long, and the app's log says why.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  ROOT,
  openAppInBrowser,
  screenshot,
  startKernelFromEnvironments,
  startServe,
  waitFor,
  type ServeHandle,
} from './helpers';

const T = 90_000;

describe('idle culling in the kernels table (issue 14 item 4)', { timeout: 300_000 }, () => {
  let serve: ServeHandle;
  let page: Page;
  let close: () => Promise<void> = async () => undefined;
  const pageErrors: string[] = [];

  before(async () => {
    serve = await startServe();
    const set = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'electron/cli/cluster-cli.ts',
        'set',
        'This computer',
        '--cull-idle-timeout',
        '6',
        '--cull-interval',
        '1',
        '--data-dir',
        serve.dataDir,
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(set.status, 0, `${set.stdout}${set.stderr}`);
    assert.match(set.stdout, /idle for 6 s, checked every 1 s/);
    ({ page, close } = await openAppInBrowser(serve, { timeoutMs: T, pageErrors }));
  });

  after(async () => {
    await close();
    await serve?.stop();
  });

  test('the table shows when an idle kernel goes; it is shut down and logged', async () => {
    const row = await startKernelFromEnvironments(page, 'This computer', T);
    const cull = row.getByTestId('cull-after');
    await cull.waitFor();
    assert.match(await cull.innerText(), /Shut down if idle in \d+ s|at the next check/);
    await screenshot(page, '14-04-kernels-cull-after');
    const id = await row.getAttribute('data-kernel-id');
    await waitFor('culled', async () => (await page.locator(`tr[data-kernel-id="${id}"]`).count()) === 0, T);
    await page.getByRole('button', { name: 'Settings & log' }).click();
    await waitFor(
      'logged',
      async () =>
        /was shut down: culled after \d+ s of inactivity/.test(await page.locator('body').innerText()),
      T,
    );
    assert.deepEqual(pageErrors, []);
  });
});
