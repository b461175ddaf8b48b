// Enterprise Gateway behaviours Debian's Jupyter Server cannot show, through the real proxy with an
// in-test stand-in upstream (eg-stand-in.ts): a restart answered before the kernel is back; kernelspecs
// filtered per user and an unauthorized user (root).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { createAppCore, type AppCore } from '../../app-core';
import { makeGatewayConfig, validateLaunchParam } from '../config';
import { diagnoseGateway } from '../diagnose';
import { GatewayClusterRuntime } from '../gateway/runtime';
import { EnterpriseGatewayStandIn, type StandInKernel } from './eg-stand-in';
import { tempDir } from './helpers';

const osUser = userInfo().username;

describe('Enterprise Gateway behaviours through the proxy', { timeout: 60_000 }, () => {
  let standIn: EnterpriseGatewayStandIn;
  let core: AppCore;
  let dataDir: string;
  const api = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(new URL(path, core.proxyUrl), {
      ...init,
      headers: { Authorization: `token ${core.token}`, 'Content-Type': 'application/json' },
    });
  const startKernel = async (name: string, env: Record<string, string> = {}): Promise<Response> =>
    api('/api/kernels', { method: 'POST', body: JSON.stringify({ name, env }) });
  const started = async (name: string, env: Record<string, string> = {}): Promise<string> => {
    const r = await startKernel(name, env);
    assert.equal(r.status, 201, await r.clone().text());
    return ((await r.json()) as { id: string }).id;
  };

  before(async () => {
    dataDir = tempDir();
    // Like Enterprise Gateway with the defaults: this computer's user (root on our CI machines) is refused
    // and offered no kernelspecs.
    standIn = await new EnterpriseGatewayStandIn({
      specs: ['python3'],
      specsByUser: { [osUser]: [] },
      unauthorizedUsers: [osUser],
    }).start();
    // The same gateway twice: without a username (the client's passes through, the OS user is the last
    // fallback; these tests run as root) and with the student's university account.
    const runtime = (id: string, kernelUsername?: string): GatewayClusterRuntime =>
      new GatewayClusterRuntime(
        makeGatewayConfig({
          id,
          name: id,
          url: standIn.url,
          ...(kernelUsername ? { kernelUsername } : {}),
          pollIntervalMs: 0,
          timeouts: { connectMs: 2000, launchMs: 10_000 },
        }),
        { get: () => undefined },
        { specsCacheMs: 0 },
      );
    core = await createAppCore({
      dataDir,
      token: 'eg-tests',
      clusters: [runtime('eg'), runtime('eg-alice', 'alice')],
      proxyOptions: { log: () => undefined },
    });
  });

  after(async () => {
    await core?.close();
    await standIn?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('restart: the proxy answers only after the restarted kernel answered kernel_info', async () => {
    const id = await started('eg-alice--python3');
    const k = standIn.kernels.get(id);
    assert.ok(k, 'the stand-in created the kernel under the proxy id (KERNEL_ID)');
    const probed = new Promise<'probed'>((resolve) =>
      standIn.once('held-kernel-info', (held: StandInKernel) => {
        if (held.id === id) resolve('probed');
      }),
    );
    let answered = false;
    const restart = api(`/api/kernels/${id}/restart`, { method: 'POST', body: '{}' }).then((r) => {
      answered = true;
      return r;
    });
    const first = await Promise.race([restart.then(() => 'answered' as const), probed]);
    assert.equal(first, 'probed', 'the proxy answered the restart before the kernel was back');
    assert.equal(answered, false);
    standIn.finishRestart(id);
    const res = await restart;
    assert.equal(res.status, 200);
    const model = (await res.json()) as { execution_state: string };
    assert.equal(model.execution_state, 'idle');
    await api(`/api/kernels/${id}`, { method: 'DELETE' });
  });

  const specNames = async (query = ''): Promise<string[]> => {
    const r = await api(`/api/kernelspecs${query}`);
    assert.equal(r.status, 200);
    return Object.keys(((await r.json()) as { kernelspecs: Record<string, unknown> }).kernelspecs).sort();
  };
  const lastStart = (): Record<string, string> => {
    const k = [...standIn.kernels.values()].at(-1);
    assert.ok(k, 'a kernel was started on the stand-in');
    return k.env;
  };

  test("username: the client's ?user= and KERNEL_USERNAME pass through when the cluster sets none", async () => {
    assert.deepEqual(await specNames('?user=alice'), ['eg-alice--python3', 'python3']);
    assert.ok(standIn.requests.includes('GET /api/kernelspecs?user=alice'), standIn.requests.join('\n'));
    // jupyter_server asks for one spec as ?user=<u>/<name>
    const one = await api('/api/kernelspecs?user=alice/python3');
    assert.equal(one.status, 200);
    const id = await started('python3', { KERNEL_USERNAME: 'alice' });
    assert.equal(lastStart().KERNEL_USERNAME, 'alice');
    assert.equal(lastStart().KERNEL_ID, id, 'the kernel sees the id clients use (KERNEL_ID = proxy id)');
    await api(`/api/kernels/${id}`, { method: 'DELETE' });
  });

  test('username: the OS user is only the last fallback', async () => {
    assert.deepEqual(await specNames(), ['eg-alice--python3'], 'the OS user is offered nothing');
    assert.ok(standIn.requests.includes(`GET /api/kernelspecs?user=${encodeURIComponent(osUser)}`));
    const r = await startKernel('python3');
    assert.equal(r.status, 404, 'no python3 for the OS user');
  });

  test("username: the cluster's username wins over the client's", async () => {
    const id = await started('eg-alice--python3', { KERNEL_USERNAME: 'bob' });
    assert.equal(lastStart().KERNEL_USERNAME, 'alice');
    await api(`/api/kernels/${id}`, { method: 'DELETE' });
  });

  test('diagnosis asks as the relay will and says which user', async () => {
    const plain = makeGatewayConfig({
      id: 'eg',
      name: 'EG',
      url: standIn.url,
      timeouts: { connectMs: 2000 },
    });
    const d = await diagnoseGateway(plain, { get: () => undefined });
    assert.equal(d.severity, 'warning', `${d.title} — ${d.detail}`);
    assert.equal(d.kernelspecCount, 0);
    assert.equal(d.kernelUsername, osUser);
    assert.equal(d.kernelUsernameSource, 'os');
    assert.match(d.title, new RegExp(`no kernelspecs to user "${osUser}"`));
    assert.match(d.detail, /without a user it lists 1 \(python3\)/);
    assert.match(d.hint, /username/);
    assert.doesNotMatch(`${d.title} ${d.detail}`, /Gateway Enterprise Gateway/);
    const alice = makeGatewayConfig({ ...plain, id: 'eg2', kernelUsername: 'alice' });
    const ok = await diagnoseGateway(alice, { get: () => undefined });
    assert.equal(ok.severity, 'ok', `${ok.title} — ${ok.detail}`);
    assert.match(ok.detail, /Enterprise Gateway 3\.2\.3 on Jupyter Server 2\.14\.0, 1 kernelspec: python3/);
    assert.match(ok.detail, /listed for user "alice" \(the cluster's username\)/);
  });

  test('refusing --launch KERNEL_USERNAME=… points to the username setting', () => {
    const err = validateLaunchParam({ name: 'KERNEL_USERNAME', value: 'alice' });
    assert.match(err ?? '', /--username U/);
    assert.match(err ?? '', /cluster -- set NAME --username U/);
  });
});
