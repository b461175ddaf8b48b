// The Docker story in the UI (issue 13, "the browser suite adds a Docker cluster from the UI, starts a kernel
// and runs code"): a private dockerd (scripts/testing/dockerd.ts) stands in for the laptop's Docker. The form
// names its socket, the fixture's image, the host's Python and the read-only mounts that Python needs (the
// image is an almost empty rootfs); the network stays the default, host. Test connection passes, a kernel
// started from the cluster's environments runs code in a container, and after shutdown the container is gone.
// Then a container left by an "earlier session" (our labels, an unknown kernel) is offered for removal at start.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  HOST_RUNTIME_MOUNTS,
  dockerdUnavailable,
  startDockerd,
  type TestDockerd,
} from '../scripts/testing/dockerd';
import { installIdOf } from '../electron/clusters/install-id';
import { kernelLabels } from '../provisioners/docker/labels';
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
const skip = dockerdUnavailable() ?? false;
const NAME = 'Laptop Docker';

describe('Docker clusters from the UI (a private real Docker Engine)', { skip, timeout: 600_000 }, () => {
  let serve: ServeHandle;
  let d: TestDockerd;
  let closeBrowser: () => Promise<void> = async () => undefined;
  let page: Page;
  let clusterId = '';
  const pageErrors: string[] = [];

  /** Our kernel containers on the engine (any state). */
  const kernelContainers = async (): Promise<string[]> =>
    (
      await d.docker.listContainers({
        all: true,
        filters: JSON.stringify({ label: ['app=gateway-desktop'] }),
      })
    ).map((c) => `${c.Names[0] ?? c.Id} ${c.State}`);

  before(async () => {
    [serve, d] = await Promise.all([startServe(), startDockerd()]);
    ({ page, close: closeBrowser } = await openAppInBrowser(serve, { timeoutMs: T, pageErrors }));
  });

  after(async () => {
    await closeBrowser();
    await serve?.stop();
    await d?.stop();
  });

  test('the form adds a Docker cluster whose Test connection passes', async () => {
    await page.getByRole('button', { name: 'Add cluster' }).click();
    await page.getByRole('heading', { name: 'Add a cluster' }).waitFor();
    await page.locator('input[name="cf-kind"][value="docker"]').check();
    await page.locator('#cf-name').fill(NAME);
    await page.locator('#cf-docker-host').fill(d.host);
    await page.locator('#cf-docker-image').fill(d.image);
    await page.locator('#cf-docker-python').fill('/usr/bin/python3');
    await page.locator('#cf-docker-volumes').fill(HOST_RUNTIME_MOUNTS.map((m) => `${m}:${m}:ro`).join(', '));
    await page.getByRole('button', { name: 'Test connection' }).click();
    const diag = page.locator('.diagnosis');
    await waitFor(
      'a diagnosis',
      async () => ['ok', 'error'].includes((await diag.getAttribute('data-kind')) ?? ''),
      T,
    );
    const words = await diag.innerText();
    assert.equal(await diag.getAttribute('data-kind'), 'ok', words);
    await screenshot(page, '50-docker-test-ok');

    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Clusters', level: 1 }).waitFor();
    const card = page.locator('.cluster-card', { hasText: NAME });
    await card.waitFor();
    clusterId = (await card.getAttribute('data-cluster-id')) ?? '';
    assert.ok(clusterId);
  });

  test('a kernel started on the Docker cluster runs code in a container that is gone after shutdown', async () => {
    await page.locator(`.cluster-card[data-cluster-id="${clusterId}"]`).click();
    await page.getByRole('heading', { name: NAME, level: 2 }).waitFor();
    const row = await startKernelFromEnvironments(page, NAME, T);
    const kernelId = (await row.getAttribute('data-kernel-id')) ?? '';
    const running = await d.docker.listContainers({
      filters: JSON.stringify({ label: [`kernel_id=${kernelId}`] }),
    });
    assert.equal(running.length, 1, 'one running container carries the kernel id');
    assert.match(await runInConsole(page, row, 'print(6*7)', T), /42/);
    await screenshot(page, '51-docker-console');
    await page.getByRole('button', { name: /^Kernels/ }).click();
    await shutDownKernel(page, row, NAME, T);
    // The proxy answers the shutdown once the provisioner cleaned up; a short poll covers the engine's removal.
    await waitFor('no kernel container', async () => (await kernelContainers()).length === 0, T);
    assert.deepEqual(await kernelContainers(), []);
  });

  test('at start the Clusters screen offers to remove a kernel container of an earlier session, and only that', async () => {
    // What a crash leaves: a container with this install's kernel labels whose kernel the app does not know.
    const create = async (labels: Record<string, string>) =>
      (await d.docker.createContainer({ Image: d.image, Cmd: ['/bin/true'], Labels: labels })).id;
    const orphan = await create(kernelLabels(randomUUID(), installIdOf(serve.dataDir)));
    const unlabelled = await create({});
    await page.goto(`${serve.url}?token=${serve.token}`);
    const notice = page.getByRole('status', { name: 'Kernel containers from an earlier session' });
    await notice.waitFor();
    assert.match(
      await notice.innerText(),
      new RegExp(`1 kernel container from an earlier session is still on ${NAME}\\.`),
    );
    await screenshot(page, '52-docker-orphans');
    await notice.getByRole('button', { name: `Remove 1 kernel container on ${NAME}` }).click();
    await notice.waitFor({ state: 'detached' });
    const left = (await d.docker.listContainers({ all: true })).map((c) => c.Id);
    assert.ok(!left.includes(orphan), 'the orphan is removed');
    assert.ok(left.includes(unlabelled), 'a container without our labels is never touched');
    await d.docker.getContainer(unlabelled).remove({ force: true });
    assert.deepEqual(pageErrors, []);
  });
});
