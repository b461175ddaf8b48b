// Gateway Provisioners kernelspecs (provisioner `distributed-provisioner`) on an SSH cluster, against a real sshd
// and a test-only launcher written here the way GP's launch_ipykernel.py works (reference §2): it takes
// --kernel-id/--port-range/--response-address/--public-key, holds six ports at once, writes a connection file,
// sends the payload version 1 (AES-128-ECB, the AES key wrapped with RSA PKCS#1 v1.5, pycryptodome) from a
// forked listener that then serves the comm port ({"signum": n}, {"shutdown": 1}), and runs ipykernel in its
// own process. The response address it is given must be a port of the host's sshd (a reverse forward), not
// anything on this computer.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gpLauncherArgv } from '../../../../scripts/testing/gp-kernelspec';
import { startSshd, type TestSshd } from '../../../../scripts/testing/sshd';
import type { SshClusterConfig, SshEnvironment } from '../../kinds/ssh/config';
import type { SshCluster } from '../ssh-cluster';
import { PYTHON, tempDir, waitFor } from '../../test/helpers';
import { descendsFrom, pidsMentioning, processAlive, socketHolders } from './procfs';
import { SshTestBed, interruptSleep, run, skipWithoutSshd, sshClusterConfig } from './ssh-test-kit';

const GP_STYLE_LAUNCHER = `
import argparse, atexit, base64, importlib, json, os, socket, sys, tempfile, uuid
from Cryptodome.Cipher import AES, PKCS1_v1_5
from Cryptodome.PublicKey import RSA
from Cryptodome.Random import get_random_bytes
from Cryptodome.Util.Padding import pad

p = argparse.ArgumentParser()
p.add_argument("--kernel-id", required=True)
p.add_argument("--port-range", default="0..0")
p.add_argument("--response-address", required=True)
p.add_argument("--public-key", required=True)
p.add_argument("--kernel-class-name", default="ipykernel.ipkernel.IPythonKernel")
a = p.parse_args()
print("response address " + a.response_address, file=sys.stderr, flush=True)

# shell, iopub, stdin, hb, control, comm: bound together so they differ; the comm socket stays open.
socks = []
for _ in range(6):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("0.0.0.0", 0))
    socks.append(s)
names = ["shell_port", "iopub_port", "stdin_port", "hb_port", "control_port"]
info = {n: s.getsockname()[1] for n, s in zip(names, socks)}
comm = socks[5]
for s in socks[:5]:
    s.close()
info.update(ip="0.0.0.0", key=str(uuid.uuid4()), transport="tcp", signature_scheme="hmac-sha256", kernel_name="")
fd, conn_file = tempfile.mkstemp(prefix="kernel-%s_" % a.kernel_id, suffix=".json")
with os.fdopen(fd, "w") as f:
    json.dump(info, f)
kernel_pid = os.getpid()
payload = dict(info, pid=kernel_pid, pgid=os.getpgid(0), comm_port=comm.getsockname()[1], kernel_id=a.kernel_id)

if os.fork() == 0:
    # The listener: report once the comm socket listens, then serve it until shutdown or the kernel is gone.
    comm.listen(1)
    aes_key = get_random_bytes(16)
    conn_info = base64.b64encode(AES.new(aes_key, AES.MODE_ECB).encrypt(pad(json.dumps(payload).encode("utf-8"), 16)))
    wrapped = base64.b64encode(PKCS1_v1_5.new(RSA.importKey(base64.b64decode(a.public_key.encode()))).encrypt(aes_key))
    envelope = json.dumps({"version": 1, "key": wrapped.decode("ascii"), "conn_info": conn_info.decode("ascii")},
                          separators=(", ", ": "))
    host, port = a.response_address.rsplit(":", 1)
    with socket.create_connection((host, int(port))) as s:
        s.sendall(base64.b64encode(envelope.encode("utf-8")))
    comm.settimeout(1.0)
    while True:
        try:
            c, _ = comm.accept()
        except socket.timeout:
            if os.getppid() != kernel_pid:
                os._exit(0)
            continue
        data = b""
        with c:
            while True:
                chunk = c.recv(1024)
                if not chunk:
                    break
                data += chunk
        req = json.loads(data.decode("utf-8") or "{}")
        print("comm request %s" % json.dumps(req), file=sys.stderr, flush=True)
        if req.get("shutdown"):
            os._exit(0)
        if "signum" in req:
            try:
                os.kill(kernel_pid, int(req["signum"]))
            except OSError:
                os._exit(0)

comm.close()
atexit.register(lambda: os.path.exists(conn_file) and os.remove(conn_file))
module, _, name = a.kernel_class_name.rpartition(".")
from ipykernel.kernelapp import IPKernelApp
app = IPKernelApp.instance(kernel_class=getattr(importlib.import_module(module), name))
app.initialize(["-f", conn_file])
app.start()
`;

const hasCrypto = spawnSync(PYTHON, ['-c', 'import Cryptodome'], { stdio: 'ignore' }).status === 0;
const skip =
  skipWithoutSshd ||
  (hasCrypto ? false : `${PYTHON} lacks Cryptodome (apt-get install python3-pycryptodome)`);

describe('Gateway Provisioners kernelspecs (distributed-provisioner) on an SSH cluster', { skip }, () => {
  let sshd: TestSshd;
  let launcher: string;
  const bed = new SshTestBed();

  before(async () => {
    sshd = await startSshd();
    launcher = join(tempDir('gwd-gp-launcher-'), 'launch_ipykernel.py');
    writeFileSync(launcher, GP_STYLE_LAUNCHER);
  });

  after(async () => {
    await bed.stop();
    await sshd?.stop();
  });

  const cluster = (env: SshEnvironment, over: Partial<SshClusterConfig> = {}): SshCluster =>
    bed.cluster(sshClusterConfig(sshd, { id: 'gp', name: 'GP hosts', environments: [env], ...over }));

  // As `jupyter ssh-spec install` writes it (reference §3.3), with this test's launcher.
  const gpEnvironment = (): SshEnvironment => ({
    name: 'ssh_python',
    displayName: 'Python SSH',
    language: 'python',
    argv: gpLauncherArgv(PYTHON, launcher),
  });

  test('start, execute, interrupt a sleep, restart, shut down: nothing left on the host', async () => {
    const c = cluster(gpEnvironment());
    const listed = (await c.listKernelSpecs()).specs.find((s) => s.name === 'ssh_python');
    assert.equal(listed?.spec.metadata?.kernel_provisioner?.provisioner_name, 'distributed-provisioner');

    const kernelId = randomUUID();
    const k = await bed.start(c, { kernelId, specName: 'ssh_python', env: { KERNEL_USERNAME: 'student' } });
    const out = await run(
      k,
      'import os; print(os.environ["KERNEL_ID"], os.environ["KERNEL_USERNAME"], os.environ["PORT_RANGE"], os.getpid())',
    );
    const [kid, user, range, pid] = out.trim().split(/\s+/);
    assert.deepEqual([kid, user, range], [kernelId, 'student', '0..0']);
    const info = k.getProvisionerInfo();
    assert.equal(info.provisioner, 'distributed-provisioner');
    assert.equal(Number(pid), info.details.pid, 'the kernel the payload named runs the code');

    // The launcher called back to a loopback port of the host's sshd (the reverse forward), nothing of ours.
    const said = /response address 127\.0\.0\.1:(\d+)/.exec(await k.outputTail());
    assert.ok(said, 'the launcher printed its response address');
    const holders = socketHolders(Number(said[1]), 'listening-on');
    assert.ok(
      holders.length > 0 && holders.every((p) => descendsFrom(p, sshd.pid)),
      `holders ${holders.join()}`,
    );

    assert.equal(await interruptSleep(k), 'KeyboardInterrupt');
    assert.match(await k.outputTail(), /comm request \{"signum": 2\}/);

    await k.restart();
    const pid2 = Number((await run(k, 'import os; print(os.getpid())')).trim());
    assert.notEqual(pid2, Number(pid));
    await waitFor('the first launcher to exit', () => !processAlive(Number(pid)), 15_000);

    await k.shutdown();
    await waitFor(
      'no process of the kernel on the host',
      () => pidsMentioning(kernelId).length === 0,
      15_000,
    );
    const files = ['log', 'pid'].map((x) =>
      join(os.homedir(), `.cache/gateway-desktop/gp-kernel-${kernelId}.${x}`),
    );
    await waitFor('the launcher log and pid file removed', () => !files.some((f) => existsSync(f)), 5000);
    await waitFor('the SSH link closed with its last kernel', () => c.openLinks().length === 0, 5000);
  });

  test('a launcher that never reports: the launch times out and nothing of it is left', async () => {
    const c = cluster(
      {
        name: 'ssh_silent',
        displayName: 'Silent',
        language: 'python',
        argv: [PYTHON, '-c', 'import time; time.sleep(120)', '{kernel_id}', '{response_address}'],
      },
      { launchTimeoutSec: 6 },
    );
    const kernelId = randomUUID();
    await assert.rejects(c.startKernel({ kernelId, specName: 'ssh_silent', env: {} }), /within 6 s/);
    await waitFor('no process of the launch left', () => pidsMentioning(kernelId).length === 0, 15_000);
    const dir = join(os.homedir(), '.cache/gateway-desktop');
    for (const f of [`gp-kernel-${kernelId}.log`, `gp-kernel-${kernelId}.pid`])
      assert.ok(!existsSync(join(dir, f)), `${f} removed`);
  });

  test('a launcher that dies before reporting fails the start at once with its output', async () => {
    const c = cluster(
      {
        name: 'ssh_broken',
        displayName: 'Broken',
        language: 'python',
        argv: [
          PYTHON,
          '-c',
          'import sys; print("no Spark here", file=sys.stderr); sys.exit(4)',
          '{response_address}',
        ],
      },
      { launchTimeoutSec: 300 },
    );
    const kernelId = randomUUID();
    const t0 = Date.now();
    await assert.rejects(c.startKernel({ kernelId, specName: 'ssh_broken', env: {} }), (err: Error) => {
      assert.match(err.message, /exit code 4/);
      assert.match(err.message, /no Spark here/);
      return true;
    });
    assert.ok(Date.now() - t0 < 100_000, 'not left to the launch timeout');
  });
});
