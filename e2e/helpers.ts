// Shared helpers of the browser suites: start `serve` (the real backend) in a temp data dir, launch Debian's
// Chromium through playwright-core with a fresh profile, poll for conditions, save screenshots, clean up.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { startJupyterServer } from '../scripts/testing/jupyter-server';
import { freeTcpPort as freePort } from '../scripts/testing/free-port';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SCREENSHOTS = join(ROOT, 'test-artifacts', 'screenshots');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

export interface ServeHandle {
  url: string;
  port: number;
  token: string;
  dataDir: string;
  proc: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `node --import tsx electron/serve.ts` and waits for its ready line (builds the UI if needed). */
export async function startServe(
  opts: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<ServeHandle> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gd-e2e-data-'));
  const home = mkdtempSync(join(tmpdir(), 'gd-e2e-home-'));
  const port = await freePort();
  const token = `e2e-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', 'electron/serve.ts', '--port', String(port), '--token', token, '--data-dir', dataDir],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        HOME: home,
        JUPYTER_DATA_DIR: join(home, 'jupyter-data'),
        JUPYTER_RUNTIME_DIR: join(home, 'jupyter-runtime'),
        JUPYTER_CONFIG_DIR: join(home, 'jupyter-config'),
        PYDEVD_DISABLE_FILE_VALIDATION: '1',
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: false,
    },
  );
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  while (!out.includes(url)) {
    if (proc.exitCode !== null) throw new Error(`serve exited with ${proc.exitCode}:\n${out}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`serve did not print its ready line in time:\n${out}`);
    }
    await sleep(100);
  }
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const t = Date.now();
      while (proc.exitCode === null && proc.signalCode === null && Date.now() - t < 30_000) await sleep(100);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  };
  return { url, port, token, dataDir, proc, output: () => out, stop };
}

/**
 * A page on the app served by `serve`, logged in with its token, with errors collected in `pageErrors`;
 * resolves once the app has listed This computer's kernel environments.
 */
export async function openApp(
  browser: Browser,
  serve: ServeHandle,
  opts: { width?: number; height?: number; timeoutMs: number; pageErrors?: string[] },
): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: opts.width ?? 1280, height: opts.height ?? 860 } });
  page.setDefaultTimeout(opts.timeoutMs);
  page.on('pageerror', (e) => opts.pageErrors?.push(e.message));
  await page.goto(`${serve.url}?token=${serve.token}`);
  await page.locator('li.env[data-env="python3"]').waitFor();
  return page;
}

/** A fresh browser on the app (`openApp`); `close` closes the browser. */
export async function openAppInBrowser(
  serve: ServeHandle,
  opts: { timeoutMs: number; pageErrors?: string[] },
): Promise<{ page: Page; close(): Promise<void> }> {
  const b = await launchBrowser();
  try {
    return { page: await openApp(b.browser, serve, opts), close: b.close };
  } catch (err) {
    await b.close();
    throw err;
  }
}

/**
 * On a cluster's page: start a kernel of `env` from its environment list, go to Kernels and resolve with the
 * kernel's row (the one naming `clusterName`) once it is idle.
 */
export async function startKernelFromEnvironments(
  page: Page,
  clusterName: string,
  timeoutMs: number,
  env = 'python3',
): Promise<Locator> {
  await page
    .locator(`li.env[data-env="${env}"]`)
    .getByRole('button', { name: /Start a .* kernel/ })
    .click();
  await page.getByRole('button', { name: /^Kernels/ }).click();
  const row = page.locator('tr[data-kernel-id]', { hasText: clusterName });
  await row.waitFor({ timeout: timeoutMs });
  await waitFor('idle', async () => (await row.getAttribute('data-state')) === 'idle', timeoutMs);
  return row;
}

/** Open the console of the kernel in `row`, run `code`, and resolve with the entry's text once it ran ok. */
export async function runInConsole(
  page: Page,
  row: Locator,
  code: string,
  timeoutMs: number,
): Promise<string> {
  await row.getByRole('button', { name: 'Console' }).click();
  await page.locator('#console-code').fill(code);
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const last = page.locator('li.entry').last();
  await waitFor('output', async () => (await last.getAttribute('data-status')) === 'ok', timeoutMs);
  return last.innerText();
}

/** In Kernels: shut the kernel of `row` down and wait until no kernel of `clusterName` is listed. */
export async function shutDownKernel(
  page: Page,
  row: Locator,
  clusterName: string,
  timeoutMs: number,
): Promise<void> {
  await row.getByRole('button', { name: 'Shut down' }).click();
  await row.getByRole('button', { name: 'Confirm shut down' }).click();
  await waitFor(
    'gone',
    async () => (await page.locator('tr[data-kernel-id]', { hasText: clusterName }).count()) === 0,
    timeoutMs,
  );
}

/** Add a gateway cluster to serve's data dir with `npm run cluster -- add gateway` (the token by env var). */
export function addGatewayByCli(serve: ServeHandle, name: string, url: string, token: string): void {
  const add = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'electron/cli/cluster-cli.ts',
      'add',
      'gateway',
      name,
      '--url',
      url,
      '--token-env',
      'UP_TOKEN',
      '--data-dir',
      serve.dataDir,
    ],
    { cwd: ROOT, env: { ...process.env, UP_TOKEN: token }, encoding: 'utf8', timeout: 60_000 },
  );
  if (add.status !== 0) throw new Error(`cluster add: ${add.stdout}${add.stderr}`);
}

export async function launchBrowser(): Promise<{ browser: Browser; close(): Promise<void> }> {
  // playwright-core gives every launch() a fresh temporary --user-data-dir of its own (and refuses ours).
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_FLAGS,
    headless: true,
    timeout: 60_000,
  });
  return {
    browser,
    close: async () => {
      await browser.close().catch(() => undefined);
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until fn returns a truthy value (or throws with `what` after timeoutMs). */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T> | T,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(everyMs);
  }
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = join(SCREENSHOTS, `${name}.png`);
  // The app scrolls inside its main pane: grow the viewport to the pane's content for a whole-screen shot.
  const size = page.viewportSize() ?? { width: 1280, height: 860 };
  const need = Number(
    await page.evaluate(
      "(() => { const m = document.querySelector('.content'); return m ? m.scrollHeight + m.getBoundingClientRect().top : 0; })()",
    ),
  );
  if (need > size.height) await page.setViewportSize({ width: size.width, height: Math.min(need + 8, 4000) });
  await page.screenshot({ path: file, fullPage: true });
  if (need > size.height) await page.setViewportSize(size);
  return file;
}

export interface UpstreamServer {
  url: string;
  token: string;
  stop(): Promise<void>;
}

/** Debian's Jupyter Server 1.23 as a token-protected "university gateway" (its own process group). */
export async function startUpstreamGateway(): Promise<UpstreamServer> {
  const js = await startJupyterServer({ token: `up-${Math.random().toString(36).slice(2)}` });
  return { url: js.url, token: js.token, stop: js.stop };
}
