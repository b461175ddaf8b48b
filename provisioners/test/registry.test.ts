// The provisioner registry: a kernelspec's metadata.kernel_provisioner.provisioner_name picks the factory;
// the local one is the default; Gateway Provisioners' names and unknown names are refused before anything
// runs, with the name and what to set up. And the shared context's connection pool.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConnectionPool, createProvisionerContext } from '../context';
import { createLocalProvisionerRegistry } from '../default-registry';
import { GATEWAY_PROVISIONER_NAMES } from '../gateway-provisioners';
import { LocalProvisioner } from '../local/local-provisioner';
import {
  ProvisionerRegistry,
  ProvisionerUnavailableError,
  provisionerNameOf,
  type ProvisionerFactory,
} from '../registry';
import { startKernel } from '../start';
import type { KernelProvisioner, KernelSpec } from '../types';

function specNaming(provisioner: string | null, config?: Record<string, unknown>): KernelSpec {
  return {
    name: 'some_spec',
    resourceDir: '/opt/kernels/some_spec',
    resources: {},
    spec: {
      argv: ['/bin/sh', '-c', 'exit 7'],
      display_name: 'Some spec',
      language: 'python',
      ...(provisioner !== null
        ? {
            metadata: {
              kernel_provisioner: { provisioner_name: provisioner, ...(config ? { config } : {}) },
            },
          }
        : {}),
    },
  };
}

describe('provisioner registry', () => {
  test('no metadata and local-provisioner (jupyter_client default) both mean the local provisioner', () => {
    const reg = createLocalProvisionerRegistry();
    assert.equal(provisionerNameOf(specNaming(null)), 'local-provisioner');
    assert.equal(provisionerNameOf(specNaming('  ')), 'local-provisioner');
    for (const s of [specNaming(null), specNaming('local-provisioner')]) {
      const p = reg.create({ kernelId: 'k', spec: s });
      assert.ok(p instanceof LocalProvisioner);
      assert.equal(reg.check(s), null);
    }
  });

  test('every Gateway Provisioners name is known, refused with what it needs and where', () => {
    const reg = createLocalProvisionerRegistry(undefined, 'This computer');
    assert.deepEqual([...GATEWAY_PROVISIONER_NAMES].sort(), [
      'distributed-provisioner',
      'docker-provisioner',
      'docker-swarm-provisioner',
      'kubernetes-provisioner',
      'spark-operator-provisioner',
      'yarn-provisioner',
    ]);
    for (const name of GATEWAY_PROVISIONER_NAMES) {
      assert.throws(
        () => reg.create({ kernelId: 'k', spec: specNaming(name) }),
        (err: unknown) => {
          assert.ok(err instanceof ProvisionerUnavailableError);
          assert.equal(err.provisionerName, name);
          assert.equal(err.known, true);
          assert.match(err.message, new RegExp(`Gateway Provisioners' ${name}, which needs `));
          assert.match(err.message, /cannot run it on This computer/);
          assert.match(err.message, /Add an? .* cluster/);
          return true;
        },
      );
    }
    assert.match(reg.check(specNaming('yarn-provisioner')) ?? '', /YARN/);
  });

  test('an unknown name is refused, naming it, the kernel.json and what the registry has', () => {
    const reg = createLocalProvisionerRegistry();
    const err = (() => {
      try {
        reg.resolve(specNaming('acme-provisioner'));
      } catch (e) {
        return e as ProvisionerUnavailableError;
      }
      return undefined;
    })();
    assert.ok(err instanceof ProvisionerUnavailableError);
    assert.equal(err.known, false);
    assert.match(err.message, /"acme-provisioner"/);
    assert.match(err.message, /\/opt\/kernels\/some_spec\/kernel\.json/);
    assert.match(err.message, /it has: local-provisioner/);
  });

  test('startKernel refuses before the provisioner runs anything', async () => {
    await assert.rejects(
      startKernel({ kernelId: 'k', spec: specNaming('kubernetes-provisioner') }),
      ProvisionerUnavailableError,
    );
  });

  test('a registered backend takes over its name; factories get the config and the shared context', () => {
    const ctx = createProvisionerContext({ log: () => undefined });
    const reg = createLocalProvisionerRegistry(ctx);
    const seen: unknown[] = [];
    const fake: ProvisionerFactory = {
      name: 'kubernetes-provisioner',
      create: (opts, c) => {
        seen.push(opts.config, c === ctx, opts.outlivesApp);
        return { name: 'kubernetes-provisioner', kernelId: opts.kernelId } as KernelProvisioner;
      },
    };
    reg.register(fake);
    const p = reg.create({
      kernelId: 'k',
      spec: specNaming('kubernetes-provisioner', { image_name: 'elyra/kernel-py:3.2.3' }),
      outlivesApp: true,
    });
    assert.equal(p.name, 'kubernetes-provisioner');
    assert.deepEqual(seen, [{ image_name: 'elyra/kernel-py:3.2.3' }, true, true]);
    assert.ok(reg.names().includes('kubernetes-provisioner'));
    // Re-attach picks the provisioner that saved the state.
    const state = { provisioner: 'nope', kernelId: 'k', connection: {} as never, details: {} };
    assert.throws(() => reg.createForState(state, specNaming(null)), ProvisionerUnavailableError);
    const local = reg.createForState({ ...state, provisioner: 'local-provisioner' }, specNaming(null));
    assert.ok(local instanceof LocalProvisioner);
  });

  test('an empty registry refuses everything, default name included', () => {
    const reg = new ProvisionerRegistry();
    assert.throws(() => reg.resolve(specNaming(null)), /it has: none/);
  });
});

describe('connection pool', () => {
  test('one connection per key, shared by leases, closed after the last release; failed opens retried', async () => {
    const pool = new ConnectionPool();
    let opened = 0;
    const closed: string[] = [];
    const open = async () => `conn-${++opened}`;
    const close = (v: string) => {
      closed.push(v);
    };
    const [a, b] = await Promise.all([
      pool.acquire('ssh:me@node-1:22', open, close),
      pool.acquire('ssh:me@node-1:22', open, close),
    ]);
    assert.equal(opened, 1);
    assert.equal(a.value, b.value);
    await a.release();
    await a.release(); // idempotent
    assert.deepEqual(closed, []);
    await b.release();
    assert.deepEqual(closed, ['conn-1']);
    assert.deepEqual(pool.keys(), []);

    await assert.rejects(
      pool.acquire('ssh:me@down:22', () => Promise.reject(new Error('refused')), close),
      /refused/,
    );
    const c = await pool.acquire('ssh:me@down:22', open, close);
    assert.equal(c.value, 'conn-2');
    await pool.closeAll();
    assert.deepEqual(closed, ['conn-1', 'conn-2']);
  });
});
