// The shared Docker modules without an engine: addresses, labels, KERNEL_* parsing, the launcher tar.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { launcherSource } from '../../remote/launcher-protocol';
import { EngineAddressError, describeEngine, effectiveHost, parseEngineHost } from '../engine';
import { isOurKernel, kernelLabels } from '../labels';
import { containerLauncherArgv, launcherArchive } from '../launcher-archive';
import { KernelResourceError, parseMemory, resourcesFromLaunchEnv, userOf } from '../resources';

test('engine addresses: unix, tcp (TLS), ssh, and what a bad one says', () => {
  assert.deepEqual(parseEngineHost('unix:///var/run/docker.sock'), {
    kind: 'unix',
    socketPath: '/var/run/docker.sock',
  });
  assert.deepEqual(parseEngineHost('tcp://lab:2376', true), {
    kind: 'tcp',
    host: 'lab',
    port: 2376,
    tls: true,
  });
  assert.deepEqual(parseEngineHost('ssh://me@lab:2222'), {
    kind: 'ssh',
    host: 'lab',
    port: 2222,
    user: 'me',
  });
  assert.throws(() => parseEngineHost('tcp://lab'), EngineAddressError);
  assert.throws(() => parseEngineHost('ftp://lab:1'), /unix:\/\/\/var\/run\/docker.sock, tcp:\/\/HOST:2376/);
  assert.equal(effectiveHost({}, { DOCKER_HOST: 'tcp://x:1' }), 'tcp://x:1');
  assert.equal(effectiveHost({ host: 'unix:///s' }, { DOCKER_HOST: 'tcp://x:1' }), 'unix:///s');
  assert.match(
    describeEngine({ host: 'tcp://lab:2376', tls: { ca: '/ca.pem' } }),
    /tcp:\/\/lab:2376 \(TLS\)/,
  );
});

test('labels: ours (and this install’s) only', () => {
  const l = kernelLabels('k1', 'inst');
  assert.equal(isOurKernel(l), true);
  assert.equal(isOurKernel(l, 'inst'), true);
  assert.equal(isOurKernel(l, 'other'), false);
  assert.equal(isOurKernel({ kernel_id: 'k1', component: 'kernel', app: 'gateway-provisioners' }), false);
  assert.equal(isOurKernel(undefined), false);
});

test('KERNEL_* launch variables override the environment’s defaults; bad values say what is valid', () => {
  const r = resourcesFromLaunchEnv(
    {
      KERNEL_IMAGE: 'img:2',
      KERNEL_CPUS: '1.5',
      KERNEL_MEMORY: '2Gi',
      KERNEL_GPUS: 'all',
      KERNEL_VOLUMES: '/data:/data:ro, /s:/scratch',
      KERNEL_UID: '1000',
      KERNEL_GID: '100',
      KERNEL_WORKING_DIR: '/work',
      KERNEL_CPUS_IGNORED: 'x',
    },
    { image: 'img:1', memoryBytes: 1, env: { A: '1' } },
  );
  assert.deepEqual(r, {
    image: 'img:2',
    cpus: 1.5,
    memoryBytes: 2 * 1024 ** 3,
    gpus: 'all',
    volumes: [
      { source: '/data', target: '/data', readOnly: true },
      { source: '/s', target: '/scratch', readOnly: false },
    ],
    uid: 1000,
    gid: 100,
    workingDir: '/work',
    env: { A: '1' },
  });
  assert.equal(userOf(r), '1000:100');
  assert.equal(parseMemory('512m'), 512 * 1024 ** 2);
  assert.equal(parseMemory('1073741824'), 1024 ** 3);
  assert.equal(resourcesFromLaunchEnv({ KERNEL_CPUS: '' }, { cpus: 2 }).cpus, 2);
  for (const [k, v, hint] of [
    ['KERNEL_MEMORY', 'lots', /512m, 2g, 2Gi/],
    ['KERNEL_CPUS', '-1', /above 0/],
    ['KERNEL_GPUS', 'two', /"all"/],
    ['KERNEL_VOLUMES', 'data', /SOURCE:TARGET\[:ro\]/],
    ['KERNEL_UID', 'jovyan', /numeric id/],
    ['KERNEL_WORKING_DIR', 'work', /absolute path/],
  ] as const)
    assert.throws(
      () => resourcesFromLaunchEnv({ [k]: v }),
      (e: unknown) => e instanceof KernelResourceError && e.variable === k && hint.test(e.message),
    );
});

test('the launcher tar unpacks with tar(1) to the launcher, and the container argv runs it', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gdtar-'));
  try {
    writeFileSync(path.join(dir, 'l.tar'), launcherArchive());
    execFileSync('tar', ['-C', dir, '-xf', path.join(dir, 'l.tar')]);
    assert.deepEqual(readFileSync(path.join(dir, 'gd_launcher.py')), launcherSource());
    assert.ok(statSync(path.join(dir, 'gateway-desktop')).isDirectory());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(
    containerLauncherArgv({
      python: 'python3',
      kernelId: 'k',
      ip: '0.0.0.0',
      portRange: { lo: 1, hi: 9 },
      argv: ['x'],
    }),
    [
      'python3',
      '/tmp/gd_launcher.py',
      'run',
      '--kernel-id',
      'k',
      '--ip',
      '0.0.0.0',
      '--state-dir',
      '/tmp/gateway-desktop',
      '--port-range',
      '1..9',
      '--',
      'x',
    ],
  );
});
