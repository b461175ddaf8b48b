// One validator: the CLI (`cluster add gateway …`), the host API (the form's add/edit/check) and the store
// (clusters.json) give the same verdict on the same input, in particular on the two inputs the separate
// validators used to disagree on: a gateway added from the CLI with the default timeouts is saved again from
// the form, and KERNEL_GPUS_LIMIT=two is refused by all three.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createAppCore, type AppCore } from '../../app-core';
import { runClusterCli } from '../../cli/cluster-cli';
import { HostError } from '../../host-api/contract';
import { hostApiExtension } from '../../host-api/mount';
import type { ClusterInput, GatewaySettingsInput } from '../../host-api/models';
import type { HostService } from '../../host-api/service';
import { makeGatewayConfig } from '../config';
import { ClusterStore } from '../store';
import { tempDir } from './helpers';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runClusterCli(args, { out: (s) => (out += s), err: (s) => (err += s), env: {} });
  return { code, out, err };
}

describe('CLI, host API and store agree', { timeout: 60_000 }, () => {
  let core: AppCore;
  let service: HostService | undefined;
  const dir = tempDir('gwd-agree-');
  const dd = ['--data-dir', dir];

  before(async () => {
    core = await createAppCore({
      dataDir: dir,
      clusterStore: true,
      extensions: [
        hostApiExtension({ shell: 'browser', serveUi: false, lab: null, onReady: (s) => (service = s) }),
      ],
    });
  });

  after(async () => {
    await core?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const host = (): HostService => {
    assert.ok(service, 'the host service is up');
    return service;
  };

  test('a gateway added from the CLI with default timeouts is saved again from the form', async () => {
    // The app learns of the CLI's change through the store's file watch: wait for its clusters-changed.
    const seen = new Promise<void>((resolve) => {
      const off = host().on('clusters-changed', (list) => {
        if (list.some((c) => c.name === 'Uni')) {
          off();
          resolve();
        }
      });
    });
    const add = await cli(['add', 'gateway', 'Uni', '--url', 'http://127.0.0.1:9', ...dd]);
    assert.equal(add.code, 0, add.err);
    await seen;
    const saved = ClusterStore.open(dir);
    const cfg = saved.require('Uni');
    saved.close();
    // What the edit form loads, sent back unchanged (secrets: undefined = keep).
    const detail = await host().getCluster(cfg.id);
    assert.ok(detail.gateway);
    const { hasAuthToken: _t, hasHttpPassword: _p, ...common } = detail.gateway;
    const gateway: GatewaySettingsInput = { ...common };
    const input: ClusterInput = { name: 'Uni', kind: 'gateway', gateway };
    assert.deepEqual(await host().checkCluster(input, cfg.id), {});
    await host().editCluster(cfg.id, input);
    const after = ClusterStore.open(dir);
    assert.deepEqual(after.require('Uni'), cfg, 'saving the unchanged form changes nothing');
    after.close();
  });

  test('KERNEL_GPUS_LIMIT=two is refused by the CLI, the host API and the store', async () => {
    const viaCli = await cli([
      'add',
      'gateway',
      'Gpu',
      '--url',
      'http://127.0.0.1:9',
      '--launch',
      'KERNEL_GPUS_LIMIT=two',
      ...dd,
    ]);
    assert.equal(viaCli.code, 1);
    assert.match(viaCli.err, /KERNEL_GPUS_LIMIT must be a whole number/);

    const input: ClusterInput = {
      name: 'Gpu',
      kind: 'gateway',
      settings: { url: 'http://127.0.0.1:9', launchParams: { KERNEL_GPUS_LIMIT: 'two' } },
    };
    const checked = await host().checkCluster(input);
    assert.match(checked.launchParams ?? '', /KERNEL_GPUS_LIMIT must be a whole number/);
    await assert.rejects(host().addCluster(input), (e: HostError) => {
      assert.equal(e.code, 'invalid-input');
      assert.equal(e.fieldErrors?.launchParams, checked.launchParams, 'the same words as the check');
      return true;
    });

    const store = ClusterStore.open(dir);
    const bad = makeGatewayConfig(
      {
        id: 'gpu',
        name: 'Gpu',
        url: 'http://127.0.0.1:9',
        launchParams: [{ name: 'KERNEL_GPUS_LIMIT', value: 'two' }],
      },
      [],
      { check: false },
    );
    assert.throws(() => store.add(bad), /KERNEL_GPUS_LIMIT must be a whole number/);
    // The same config written into clusters.json by hand is reported, and the last good copy is used.
    const file = join(dir, 'clusters.json');
    const data = JSON.parse(readFileSync(file, 'utf8')) as { clusters: unknown[] };
    writeFileSync(file, JSON.stringify({ ...data, clusters: [...data.clusters, bad] }));
    store.reload();
    assert.match(store.problem?.message ?? '', /KERNEL_GPUS_LIMIT must be a whole number/);
    assert.equal(store.get('Gpu'), undefined);
    writeFileSync(file, JSON.stringify(data));
    store.reload();
    assert.equal(store.problem, null);
    store.close();
  });

  test('the same input gets the same verdict whichever way it comes', async () => {
    const cases: { flags: string[]; settings: Record<string, unknown>; field: string }[] = [
      { flags: ['--url', 'gw.example.edu'], settings: { url: 'gw.example.edu' }, field: 'url' },
      {
        flags: ['--url', 'http://gw', '--request-timeout', '10', '--launch-timeout', '40'],
        settings: { url: 'http://gw', requestTimeoutSec: 10, launchTimeoutSec: 40 },
        field: 'requestTimeoutSec',
      },
      {
        flags: ['--url', 'http://gw', '--forward-env', '1BAD'],
        settings: { url: 'http://gw', envAllowlist: ['1BAD'] },
        field: 'envAllowlist',
      },
      {
        flags: ['--url', 'http://gw', '--launch', 'KERNEL_MEMORY=lots'],
        settings: { url: 'http://gw', launchParams: { KERNEL_MEMORY: 'lots' } },
        field: 'launchParams',
      },
    ];
    for (const c of cases) {
      const viaCli = await cli(['add', 'gateway', 'Same', ...c.flags, ...dd]);
      const errors = await host().checkCluster({
        name: 'Same',
        kind: 'gateway',
        settings: c.settings as ClusterInput['settings'],
      });
      assert.equal(viaCli.code, 1, `CLI refuses ${c.flags.join(' ')}`);
      assert.ok(errors[c.field], `host API names ${c.field} for ${c.flags.join(' ')}`);
      assert.ok(viaCli.err.includes(errors[c.field]), `same words: ${viaCli.err} / ${errors[c.field]}`);
    }
  });
});
