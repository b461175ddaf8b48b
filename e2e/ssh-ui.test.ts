// The SSH story in the UI (issue 12, "the browser suite adds an SSH cluster from the UI (confirming the host
// key), starts a kernel and runs code"): a private sshd on 127.0.0.1 stands in for the lab machine; serve runs
// with a fresh HOME, so ~/.ssh/known_hosts does not know the host. Test connection shows the host's
// fingerprint, "Trust this host" writes it and the test passes; the saved cluster starts a kernel over SSH
// that runs code from the console, then shuts down.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { sshdAvailable, startSshd, type TestSshd } from '../scripts/testing/sshd';
import {
  openAppInBrowser,
  runInConsole,
  screenshot,
  shutDownKernel,
  startKernelFromEnvironments,
  startServe,
  waitFor,
  type ServeHandle,
} from './helpers';

const T = 90_000;
const skip = sshdAvailable() ? false : 'no /usr/sbin/sshd here (apt-get install openssh-server)';

describe('SSH clusters from the UI (real sshd on 127.0.0.1)', { skip, timeout: 600_000 }, () => {
  let serve: ServeHandle;
  let sshd: TestSshd;
  let closeBrowser: () => Promise<void> = async () => undefined;
  let page: Page;
  let clusterId = '';
  const pageErrors: string[] = [];

  before(async () => {
    // No agent: the cluster logs in with the key file the form names, as a user without ssh-agent would.
    [serve, sshd] = await Promise.all([startServe({ env: { SSH_AUTH_SOCK: '' } }), startSshd()]);
    ({ page, close: closeBrowser } = await openAppInBrowser(serve, { timeoutMs: T, pageErrors }));
  });

  after(async () => {
    await closeBrowser();
    await serve?.stop();
    await sshd?.stop();
  });

  /** serve's ~/.ssh/known_hosts (its HOME is a fresh temp dir of startServe's, read from its environment). */
  const knownHosts = (): string => {
    const env = readFileSync(`/proc/${serve.proc.pid}/environ`, 'utf8').split('\0');
    const home = (env.find((e) => e.startsWith('HOME=')) ?? 'HOME=').slice(5);
    return join(home, '.ssh', 'known_hosts');
  };

  test('Test connection shows the unknown host key; Trust this host writes it and the test passes', async () => {
    await page.getByRole('button', { name: 'Add cluster' }).click();
    await page.getByRole('heading', { name: 'Add a cluster' }).waitFor();
    await page.locator('input[name="cf-kind"][value="ssh"]').check();
    await page.locator('#cf-name').fill('Lab server');
    await page.locator('#cf-ssh-hosts').fill('127.0.0.1');
    await page.locator('#cf-ssh-user').fill(sshd.user);
    await page.locator('#cf-ssh-port').fill(String(sshd.port));
    await page.locator('#cf-ssh-identity').fill(sshd.clientKey);
    await page.locator('#cf-ssh-python').fill('/usr/bin/python3');
    await page.getByRole('button', { name: 'Test connection' }).click();

    const ask = page.locator('.hostkey[data-status="unknown"]');
    await ask.waitFor({ timeout: T });
    assert.equal(await ask.getAttribute('data-kind'), 'host-key-unknown');
    const text = await ask.innerText();
    assert.match(
      text,
      new RegExp(`authenticity of host \\[127\\.0\\.0\\.1\\]:${sshd.port} can.t be established`),
    );
    assert.equal((await ask.locator('.fingerprint').innerText()).trim(), sshd.hostKeyFingerprint);
    assert.match(text, /ED25519 key fingerprint/);
    await screenshot(page, '40-ssh-trust-host');

    await ask.getByRole('button', { name: 'Trust this host' }).click();
    const diag = page.locator('.diagnosis');
    await waitFor('ok diagnosis', async () => (await diag.getAttribute('data-kind')) === 'ok', T);
    assert.match(await diag.innerText(), /ipykernel \d/);
    assert.equal(await page.locator('.hostkey').count(), 0);
    const line = readFileSync(knownHosts(), 'utf8');
    assert.match(line, new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 \\S+\\n$`));
    await screenshot(page, '41-ssh-test-ok');

    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Clusters', level: 1 }).waitFor();
    const card = page.locator('.cluster-card', { hasText: 'Lab server' });
    await card.waitFor();
    clusterId = (await card.getAttribute('data-cluster-id')) ?? '';
    assert.ok(clusterId);
  });

  test('a kernel started on the SSH cluster runs code from the console, then shuts down', async () => {
    await page.locator(`.cluster-card[data-cluster-id="${clusterId}"]`).click();
    await page.getByRole('heading', { name: 'Lab server', level: 2 }).waitFor();
    const row = await startKernelFromEnvironments(page, 'Lab server', T);
    assert.match(await runInConsole(page, row, 'print(6*7)', T), /42/);
    await screenshot(page, '42-ssh-console');
    await page.getByRole('button', { name: /^Kernels/ }).click();
    await shutDownKernel(page, row, 'Lab server', T);
  });

  test('a changed host key is refused with both fingerprints and no way to trust it', async () => {
    const wrong = readFileSync(sshd.wrongKnownHostsFile, 'utf8');
    writeFileSync(knownHosts(), wrong);
    await page.getByRole('button', { name: 'Clusters' }).click();
    await page.locator(`.cluster-card[data-cluster-id="${clusterId}"]`).click();
    await page.getByRole('button', { name: 'Test connection' }).click();
    const changed = page.locator('.hostkey[data-status="changed"]');
    await changed.waitFor({ timeout: T });
    const text = await changed.innerText();
    assert.ok(text.includes(sshd.hostKeyFingerprint), text);
    const known = (await changed.locator('.fingerprint').allInnerTexts()).map((t) => t.trim());
    assert.equal(known.length, 2);
    assert.ok(known.includes(sshd.hostKeyFingerprint) && known.some((f) => f !== sshd.hostKeyFingerprint));
    assert.match(text, /ssh-keygen -R/);
    assert.equal(await changed.getByRole('button', { name: /Trust/ }).count(), 0);
    assert.equal(readFileSync(knownHosts(), 'utf8'), wrong, 'known_hosts is left as it was');
    await screenshot(page, '43-ssh-host-key-changed');
    assert.deepEqual(pageErrors, []);
  });
});
