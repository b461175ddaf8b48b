// Cluster store: default content, atomic writes + last-good backup, a tampered file (clear error naming the
// file, last good copy kept and used, broken file moved aside on the next change), file watching, validation;
// and the secret store (owner-only file, keychain through an injected safeStorage).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterStore, StoreError } from '../store';
import {
  makeGatewayConfig,
  normalizeTimeouts,
  validateLaunchParam,
  LOCAL_CLUSTER_ID,
  type ClusterConfig,
} from '../config';
import { createSecretStore, SECRET_LOCATION_TEXT, type SafeStorageLike } from '../../secrets/secret-store';
import { tempDir, waitFor } from './helpers';

const gw = (name: string, url = 'https://gw.example.edu:8888'): ClusterConfig =>
  makeGatewayConfig({ name, url });

describe('cluster store', { timeout: 60_000 }, () => {
  test('default content: one local cluster "This computer", active', () => {
    const dir = tempDir();
    try {
      const s = ClusterStore.open(dir);
      assert.deepEqual(
        s.list().map((c) => [c.id, c.name, c.kind]),
        [[LOCAL_CLUSTER_ID, 'This computer', 'local']],
      );
      assert.equal(s.activeId(), 'local');
      assert.ok(existsSync(s.file) && existsSync(s.backupFile));
      s.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('add, use, remove; atomic writes leave no temp files; names are unique', () => {
    const dir = tempDir();
    try {
      const s = ClusterStore.open(dir);
      const a = s.add(gw('University GW'));
      assert.equal(a.id, 'university-gw');
      assert.throws(() => s.add(gw('university gw')), StoreError);
      s.setActive('University GW');
      assert.equal(s.activeId(), 'university-gw');
      // Another process (a fresh store on the same dir) sees it.
      const other = ClusterStore.open(dir);
      assert.equal(other.active().name, 'University GW');
      other.remove('university-gw');
      // The first store re-reads before changing anything.
      s.add(gw('Second'));
      assert.deepEqual(
        s.list().map((c) => c.id),
        ['local', 'second'],
      );
      assert.equal(s.activeId(), 'local', 'removing the active cluster makes "This computer" active');
      assert.throws(() => s.remove('local'), /cannot be removed/);
      assert.throws(() => s.setActive('nope'), /no cluster named "nope"/);
      assert.deepEqual(
        readdirSync(dir).filter((f) => f.includes('.tmp-')),
        [],
      );
      assert.equal(statSync(s.file).mode & 0o777, 0o600);
      s.close();
      other.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a tampered file: clear error naming the file, last good copy kept and used', () => {
    const dir = tempDir();
    try {
      const s = ClusterStore.open(dir);
      s.add(gw('Uni'));
      s.close();
      const file = join(dir, 'clusters.json');
      writeFileSync(file, '{"version": 1, "activeClusterId": "uni", "clusters": [ {"id": "uni", ');
      const t = ClusterStore.open(dir);
      assert.ok(t.problem, 'a problem is reported');
      assert.match(t.problem.message, new RegExp(file.replace(/[.]/g, '\\.')));
      assert.match(t.problem.message, /not valid JSON at line 1/);
      assert.match(t.problem.message, /Using the last good copy/);
      assert.deepEqual(
        t.list().map((c) => c.name),
        ['This computer', 'Uni'],
        'served from the backup',
      );
      assert.match(readFileSync(file, 'utf8'), /"clusters": \[ \{"id": "uni", $/, 'broken file untouched');
      assert.match(readFileSync(t.backupFile, 'utf8'), /"Uni"/, 'backup kept');

      // Valid JSON but a wrong value: the message names the field and the cluster.
      const good = JSON.parse(readFileSync(t.backupFile, 'utf8')) as { clusters: { url?: string }[] };
      good.clusters[1].url = 'ftp://nope';
      writeFileSync(file, JSON.stringify(good));
      const u = ClusterStore.open(dir);
      assert.match(
        u.problem?.message ?? '',
        /clusters\[1\]\.url \(cluster "Uni"\) must start with http:\/\/ or https:\/\//,
      );

      // The next change through the store moves the broken file aside and writes a good one.
      u.setActive('Uni');
      assert.equal(u.problem, null);
      assert.ok(readdirSync(dir).some((f) => f.startsWith('clusters.json.broken-')));
      assert.equal(ClusterStore.open(dir).activeId(), 'uni');
      t.close();
      u.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('file watching: a running store picks up another process’s change, and a broken edit', async () => {
    const dir = tempDir();
    try {
      const app = ClusterStore.open(dir);
      app.watch();
      const changes: string[] = [];
      app.onChange((c) => changes.push(c.problem ? 'problem' : c.data.activeClusterId));
      const cli = ClusterStore.open(dir);
      cli.add(gw('Uni'));
      cli.setActive('uni');
      await waitFor('the app to see the new active cluster', () => app.activeId() === 'uni', 10_000);
      assert.equal(changes[changes.length - 1], 'uni');
      writeFileSync(app.file, 'garbage');
      await waitFor('the app to report the broken file', () => app.problem !== null, 10_000);
      assert.equal(app.activeId(), 'uni', 'keeps serving the last good state');
      cli.setActive('local');
      await waitFor('recovery', () => app.problem === null && app.activeId() === 'local', 10_000);
      app.close();
      cli.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('config rules: timeouts kept consistent, launch parameters validated', () => {
    assert.deepEqual(normalizeTimeouts({}), {
      connectMs: 20_000,
      requestMs: 42_000,
      launchMs: 40_000,
      launchPadMs: 2_000,
    });
    assert.equal(normalizeTimeouts({ launchMs: 100_000, requestMs: 30_000 }).requestMs, 102_000);
    assert.equal(normalizeTimeouts({ launchMs: 100_000 }).requestMs, 102_000);
    assert.equal(validateLaunchParam({ name: 'KERNEL_MEMORY', value: '4G' }), null);
    assert.match(
      validateLaunchParam({ name: 'KERNEL_MEMORY', value: 'lots' }) ?? '',
      /KERNEL_MEMORY must be an amount/,
    );
    assert.match(validateLaunchParam({ name: 'KERNEL_CPUS', value: '-1' }) ?? '', /positive number/);
    assert.match(validateLaunchParam({ name: 'KERNEL_NAMESPACE', value: 'Bad_NS' }) ?? '', /namespace/);
    assert.match(validateLaunchParam({ name: 'KERNEL_VOLUMES', value: '{' }) ?? '', /JSON list/);
    assert.match(validateLaunchParam({ name: 'KERNEL_IMAGE', value: 'x$(rm)' }) ?? '', /must not contain/);
    assert.match(validateLaunchParam({ name: 'PATH', value: '/bin' }) ?? '', /KERNEL_\*/);
    assert.equal(validateLaunchParam({ name: 'KERNEL_CUSTOM_THING', value: 'ok' }), null);
    assert.throws(
      () =>
        makeGatewayConfig({
          name: 'x',
          url: 'https://h',
          launchParams: [{ name: 'KERNEL_GPUS', value: 'two' }],
        }),
      /KERNEL_GPUS must be a whole number/,
    );
    assert.throws(() => makeGatewayConfig({ name: 'x', url: 'not a url' }), /not a valid URL/);
  });
});

describe('secret store', () => {
  test('file store: owner-only (0600), outside clusters.json', () => {
    const dir = tempDir();
    try {
      const s = createSecretStore({ dataDir: dir });
      assert.equal(s.defaultLocation, 'file');
      assert.equal(
        SECRET_LOCATION_TEXT[s.set('cluster/uni/token', 's3cret')],
        'stored in a file only you can read',
      );
      assert.equal(s.get('cluster/uni/token'), 's3cret');
      assert.equal(statSync(s.files.file).mode & 0o777, 0o600);
      s.set('cluster/uni/http-password', 'pw');
      s.deletePrefix('cluster/uni/');
      assert.equal(s.get('cluster/uni/token'), undefined);
      assert.equal(existsSync(s.files.file), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('keychain store through an injected safeStorage; reads fall back to the file', () => {
    const dir = tempDir();
    try {
      // A stand-in with the same contract as Electron's safeStorage (reversible, opaque bytes).
      const fake: SafeStorageLike = {
        isEncryptionAvailable: () => true,
        encryptString: (t) => Buffer.from(Buffer.from(t, 'utf8').map((b) => b ^ 0x5a)),
        decryptString: (b) => Buffer.from(b.map((x) => x ^ 0x5a)).toString('utf8'),
      };
      createSecretStore({ dataDir: dir }).set('cluster/a/token', 'from-cli');
      const s = createSecretStore({ dataDir: dir, safeStorage: fake });
      assert.equal(s.defaultLocation, 'keychain');
      assert.equal(s.get('cluster/a/token'), 'from-cli', 'a secret the CLI stored in the file is found');
      assert.equal(s.location('cluster/a/token'), 'file');
      assert.equal(s.set('cluster/a/token', 'tok'), 'keychain');
      assert.equal(s.location('cluster/a/token'), 'keychain');
      assert.equal(s.get('cluster/a/token'), 'tok');
      assert.ok(!readFileSync(s.files.keychain, 'utf8').includes('tok"'), 'not stored in clear');
      assert.equal(SECRET_LOCATION_TEXT.keychain, 'stored in the OS keychain');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
