// `npm run cluster` end to end (the real CLI in a child process) while an app runs on the same data dir:
// add / list / test / use / remove, changes picked up by the running app without a restart, clear errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createAppCore, type AppCore } from '../../app-core';
import { createSecretStore } from '../../secrets/secret-store';
import { startJupyterServer, tempDir, waitFor, type JupyterServer } from '../../clusters/test/helpers';
import { cli } from './cli-process';

describe('npm run cluster', { timeout: 240_000 }, () => {
  let upstream: JupyterServer;
  let dataDir: string;
  let core: AppCore;
  const dd = (): string[] => ['--data-dir', dataDir];

  before(
    async () => {
      dataDir = tempDir();
      upstream = await startJupyterServer();
      core = await createAppCore({ dataDir, clusterStore: true, proxyOptions: { log: () => undefined } });
    },
    { timeout: 90_000 },
  );

  after(
    async () => {
      await core?.close();
      await upstream?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
    { timeout: 90_000 },
  );

  test('--help documents every command; bad usage exits 2 with a clear message', async () => {
    const help = await cli(['--help']);
    assert.equal(help.code, 0);
    for (const s of [
      'add gateway NAME --url URL',
      '--token-env VAR',
      '--header "K: V"',
      '--ca-file F',
      '--insecure',
      'list [--json]',
      'use NAME',
      'test NAME',
      'remove NAME',
      '--data-dir D',
    ]) {
      assert.ok(help.out.includes(s), `help mentions ${s}`);
    }
    const noUrl = await cli(['add', 'gateway', 'X', ...dd()]);
    assert.equal(noUrl.code, 2);
    assert.match(noUrl.err, /add gateway needs --url URL/);
    const noEnv = await cli([
      'add',
      'gateway',
      'X',
      '--url',
      upstream.url,
      '--token-env',
      'GWD_NOT_SET_ANYWHERE',
      ...dd(),
    ]);
    assert.equal(noEnv.code, 2);
    assert.match(noEnv.err, /environment variable GWD_NOT_SET_ANYWHERE is not set/);
    const badUrl = await cli(['add', 'gateway', 'X', '--url', 'gateway.example.edu', ...dd()]);
    assert.equal(badUrl.code, 1);
    assert.match(badUrl.err, /not a valid URL|must start with http/);
    const unknown = await cli(['frobnicate', ...dd()]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown command "frobnicate"/);
  });

  test('add, list, test, use, remove — the running app follows each change', async () => {
    const add = await cli(
      [
        'add',
        'gateway',
        'University',
        '--url',
        upstream.url,
        '--token-env',
        'UNI_TOKEN',
        '--header',
        'X-Course: ml101',
        '--username',
        'alice',
        ...dd(),
      ],
      { UNI_TOKEN: upstream.token },
    );
    assert.equal(add.code, 0, add.err);
    assert.match(add.out, /Added gateway cluster "University"/);
    assert.match(add.out, /token stored in a file only you can read/);
    await waitFor('the app to add the cluster', () => core.directory.get('university'), 10_000, 50);

    const list = await cli(['list', '--json', ...dd()]);
    assert.equal(list.code, 0);
    assert.ok(!list.out.includes(upstream.token), 'no secret in the listing');
    const parsed = JSON.parse(list.out) as {
      activeClusterId: string;
      clusters: { id: string; token?: string; headers?: string[]; kernelUsername?: string }[];
    };
    assert.equal(parsed.activeClusterId, 'local');
    const uni = parsed.clusters.find((c) => c.id === 'university');
    assert.equal(uni?.token, 'stored in a file only you can read');
    assert.deepEqual(uni?.headers, ['X-Course']);
    assert.equal(uni?.kernelUsername, 'alice');
    const plain = await cli(['list', ...dd()]);
    assert.match(plain.out, /^\* This computer/m);

    const ok = await cli(['test', 'University', ...dd()]);
    assert.equal(ok.code, 0, ok.out + ok.err);
    assert.match(ok.out, /^OK: Connected to University/m);
    assert.match(ok.out, /version 1\.23\.3/);

    const wrong = await cli(
      ['add', 'gateway', 'Wrong Token', '--url', upstream.url, '--token-env', 'T', ...dd()],
      { T: 'nope' },
    );
    assert.equal(wrong.code, 0);
    const bad = await cli(['test', 'wrong token', ...dd()]);
    assert.equal(bad.code, 1);
    assert.match(bad.out, /^FAILED: The gateway did not accept your token \((401|403)\)/m);
    assert.match(bad.out, /What to do: Check the token/);

    const use = await cli(['use', 'University', ...dd()]);
    assert.equal(use.code, 0);
    await waitFor('the app to switch', () => core.directory.activeId === 'university', 10_000, 50);

    const missing = await cli(['use', 'Nope', ...dd()]);
    assert.equal(missing.code, 1);
    assert.match(
      missing.err,
      /there is no cluster named "Nope" \(clusters: "This computer", "University", "Wrong Token"\)/,
    );

    const rm = await cli(['remove', 'University', ...dd()]);
    assert.equal(rm.code, 0);
    await waitFor(
      'the app to drop it',
      () => !core.directory.get('university') && core.directory.activeId === 'local',
      10_000,
      50,
    );
    assert.equal(
      createSecretStore({ dataDir }).get('cluster/university/token'),
      undefined,
      'its secret is gone',
    );
    assert.equal((await cli(['remove', 'This computer', ...dd()])).code, 1);
  });
});
