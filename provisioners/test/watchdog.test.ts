// The watchdog a tied local kernel runs under (provisioners/launchers/local_watchdog.py): the kernel keeps
// its own pid, process group and exit status; the watchdog sits in the group, outside the kernel's children.
// (That it kills the group when the app dies, below a subreaper: electron/kernels/test/serve-crash.test.ts.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { linuxGroupMembers } from '../local/processes';
import { LocalProvisioner } from '../local/local-provisioner';
import type { KernelSpec } from '../types';
import { newKernelId, pythonSpec, waitFor } from './helpers';

let base: KernelSpec;
let runDir: string;

const stat = (pid: number) => {
  const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const [state, ppid, pgrp] = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { state, ppid: Number(ppid), pgrp: Number(pgrp) };
};

/** Launch `argv` with the local provisioner (no ZMQ: these kernels only run and exit). */
async function launch(argv: string[], opts: { tieToParent?: boolean } = {}): Promise<LocalProvisioner> {
  const kernelId = newKernelId();
  const prov = new LocalProvisioner(kernelId, { runtimeDir: runDir, ...opts });
  const spec = { ...base, name: 'testkernel', spec: { ...base.spec, argv } };
  await prov.preLaunch({ kernelId, spec, env: {}, launchTimeoutMs: 10_000 });
  await prov.launch();
  return prov;
}

before(async () => {
  base = await pythonSpec();
  runDir = await mkdtemp(path.join(tmpdir(), 'gd-watchdog-'));
});

after(async () => {
  await rm(runDir, { recursive: true, force: true });
});

describe('the kernel watchdog', { timeout: 60_000, skip: process.platform !== 'linux' }, () => {
  test('the kernel keeps its pid and group; the watchdog is in the group but not its child', async () => {
    const prov = await launch(['/bin/sh', '-c', 'sleep 30; :', '{connection_file}']);
    try {
      assert.equal(prov.watched, true);
      const pid = prov.pid as number;
      assert.equal(prov.processGroup, pid);
      // After the exec: the launcher became the kernel (its command line, not the watchdog's).
      await waitFor(
        () => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('/bin/sh\0-c\0'),
        5000,
        'the kernel program to run',
      );
      assert.equal(stat(pid).ppid, process.pid, "the kernel is the app's child");
      const others = (linuxGroupMembers(pid) ?? []).filter((p) => p !== pid);
      const watchdog = others.find((p) =>
        readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('local_watchdog.py'),
      );
      assert.ok(watchdog, `a watchdog in the group: ${others.join(' ')}`);
      assert.notEqual(stat(watchdog).ppid, pid, 'not a child of the kernel (ipykernel terminates those)');
      await prov.kill();
      assert.equal(await prov.wait(5000), -9);
      await waitFor(() => (linuxGroupMembers(pid) ?? []).length === 0, 5000, 'the group to be gone');
    } finally {
      await prov.kill();
      await prov.cleanup();
    }
  });

  test("the kernel's own exit code and signal are what the provisioner sees", async () => {
    for (const [script, code] of [
      ['exit 3', 3],
      ['exit 0', 0],
      ['kill -TERM $$', -15],
      ['kill -KILL $$', -9],
    ] as const) {
      const prov = await launch(['/bin/sh', '-c', script]);
      try {
        assert.equal(prov.watched, true);
        assert.equal(await prov.wait(10_000), code, script);
      } finally {
        await prov.kill();
        await prov.cleanup();
      }
    }
  });

  test('a program that cannot be executed exits 127 and says why', async () => {
    const program = path.join(runDir, 'not-a-program');
    await writeFile(program, 'no shebang, no binary\n', { mode: 0o755 }); // executable, but execv: ENOEXEC
    const prov = await launch([program]);
    try {
      assert.equal(await prov.wait(10_000), 127);
      await waitFor(() => /cannot be executed: Exec format error/.test(prov.outputText()), 5000, 'why');
    } finally {
      await prov.cleanup();
    }
  });

  test('kernels meant to outlive the app (tieToParent: false) run without it', async () => {
    const prov = await launch(['/bin/sh', '-c', 'exit 0'], { tieToParent: false });
    try {
      assert.equal(prov.watched, false);
      assert.equal(await prov.wait(10_000), 0);
    } finally {
      await prov.cleanup();
    }
  });
});
