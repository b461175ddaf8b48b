// For browser tests of one cluster's edit form: the app served with that cluster already in its store, a page
// on it, and the cluster as saved now. Call inside a describe (it adds the before and after hooks).
import { after, before } from 'node:test';
import type { Page } from 'playwright-core';
import { ClusterStore } from '../electron/clusters/store';
import type { StoredCluster } from '../electron/clusters/config-base';
import { openAppInBrowser, startServe, type ServeHandle } from './helpers';

export function withStoredCluster<C extends StoredCluster>(cfg: C, timeoutMs: number) {
  let serve: ServeHandle | undefined;
  let page: Page | undefined;
  let closeBrowser: () => Promise<void> = async () => undefined;
  const pageErrors: string[] = [];
  before(async () => {
    serve = await startServe();
    const s = ClusterStore.open(serve.dataDir);
    s.add(cfg);
    s.close();
    ({ page, close: closeBrowser } = await openAppInBrowser(serve, { timeoutMs, pageErrors }));
  });
  after(async () => {
    await closeBrowser();
    await serve?.stop();
  });
  return {
    pageErrors,
    page: (): Page => page!,
    saved: (): C => {
      const s = ClusterStore.open(serve!.dataDir);
      try {
        return s.require(cfg.id) as C;
      } finally {
        s.close();
      }
    },
  };
}
