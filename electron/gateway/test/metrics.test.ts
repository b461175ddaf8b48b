// The proxy's metrics route: token-protected, reports the proxy's own figures, and resets its histogram.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createAppCore, type AppCore } from '../../app-core';
import { METRICS_PATH } from '../metrics';

let core: AppCore;
let dataDir: string;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'gd-metrics-'));
  core = await createAppCore({ dataDir, token: 'metrics-token' });
});
after(async () => {
  await core.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test(
  'metrics need the token and report memory, kernels and event-loop delay',
  { timeout: 20000 },
  async () => {
    const url = `${core.proxyUrl.replace(/\/$/, '')}${METRICS_PATH}`;
    assert.equal((await fetch(url)).status, 401);
    const r = await fetch(`${url}?reset=1`, { headers: { Authorization: 'token metrics-token' } });
    assert.equal(r.status, 200);
    const m = (await r.json()) as { rssBytes: number; kernels: number; eventLoopDelayMs: { p99: number } };
    assert.ok(m.rssBytes > 10 * 1024 * 1024, `rss ${m.rssBytes}`);
    assert.equal(m.kernels, 0);
    assert.ok(Number.isFinite(m.eventLoopDelayMs.p99));
    // The delay is lateness beyond the histogram's 10 ms timer, not the timer's whole interval: an idle
    // proxy's median is near 0, never the 10 ms a raw interval would show.
    await new Promise((r) => setTimeout(r, 500));
    const idle = (await (await fetch(url, { headers: { Authorization: 'token metrics-token' } })).json()) as {
      eventLoopDelayMs: { p50: number };
    };
    assert.ok(
      idle.eventLoopDelayMs.p50 >= 0 && idle.eventLoopDelayMs.p50 < 10,
      `p50 ${idle.eventLoopDelayMs.p50}`,
    );
  },
);
