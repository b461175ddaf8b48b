// A cluster kind registered by this test alone (no other file edited) shows up everywhere kinds are used:
// the CLI's `add <kind>` flags and --help, the host API's kind list and its one validator, the form's model,
// and the store (clusters.json), which keeps and checks it like any other.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { JSONSchemaType } from 'ajv';
import { runClusterCli } from '../../cli/cluster-cli';
import { clusterUsage } from '../../cli/cluster-usage';
import type { StoredCluster } from '../config-base';
import { clusterKinds } from '../kinds';
import { checkClusterInput } from '../kinds/input';
import type { ClusterKindDescriptor } from '../kinds/types';
import { UnusableClusterRuntime } from '../runtime-factory';
import { ClusterStore } from '../store';
import { HostService } from '../../host-api/service';
import { FakeBackend } from '../../host-api/test/fakes';
import { formFor, toInput } from '../../../renderer/src/components/cluster-form-model';
import { tempDir } from './helpers';

interface EchoConfig extends StoredCluster {
  kind: 'echo-test';
  host: string;
  passwordSecret?: string;
}

const schema: JSONSchemaType<EchoConfig> = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    kind: { type: 'string', const: 'echo-test' },
    enabled: { type: 'boolean', nullable: true },
    host: { type: 'string', minLength: 1 },
    passwordSecret: { type: 'string', nullable: true },
  },
  required: ['id', 'name', 'kind', 'host'],
  additionalProperties: false,
};

const echoKind: ClusterKindDescriptor<EchoConfig> = {
  kind: 'echo-test',
  label: 'Echo (test)',
  summary: 'a test-only kind',
  remote: true,
  addableFromForm: true,
  intro: 'Only in tests.',
  schema,
  fields: [
    {
      key: 'host',
      label: 'Host',
      help: 'the host to echo',
      type: 'text',
      required: true,
      section: 'connection',
      cli: { flag: 'echo-host', arg: 'H' },
    },
    {
      key: 'password',
      label: 'Password',
      help: 'read from environment variable VAR',
      type: 'secret',
      section: 'connection',
      cli: { flag: 'echo-password-env', arg: 'VAR', fromEnv: true },
    },
  ],
  is: (c): c is EchoConfig => c.kind === 'echo-test',
  build: (v, ctx) => {
    const cfg: EchoConfig = {
      id: ctx.id,
      name: ctx.name,
      kind: 'echo-test',
      host: typeof v.host === 'string' ? v.host.trim() : '',
    };
    const prev = ctx.prev as EchoConfig | null;
    const secret = ctx.secret(
      'password',
      `cluster/${ctx.id}/password`,
      typeof v.password === 'string' ? v.password : undefined,
      prev?.passwordSecret,
    );
    if (secret) cfg.passwordSecret = secret;
    return cfg;
  },
  values: (c) => ({ host: c.host }),
  secretsSet: (c) => ({ password: Boolean(c.passwordSecret) }),
  check: (c) => (/\s/.test(c.host) ? [{ field: 'host', message: 'a host name has no spaces' }] : []),
  fieldOfPath: () => 'host',
  secretKeys: (c) => (c.passwordSecret ? [c.passwordSecret] : []),
  where: (c) => `echo at ${c.host}`,
  url: () => null,
  launchSettings: () => ({}),
  createRuntime: (c) => new UnusableClusterRuntime(c.id, c.name, c.kind, 'a test kind runs nothing'),
  diagnose: async (c) => ({
    ok: true,
    severity: 'ok',
    code: 'ok',
    title: `echo ${c.host}`,
    detail: '',
    hint: '',
    url: '',
    elapsedMs: 0,
  }),
};

describe('a test-only cluster kind', { timeout: 60_000 }, () => {
  const dir = tempDir('gwd-kind-');
  before(() => clusterKinds.register(echoKind));
  after(() => {
    clusterKinds.unregister('echo-test');
    rmSync(dir, { recursive: true, force: true });
  });

  test('the CLI: --help lists it with its flags; add takes them; list shows it', async () => {
    const help = clusterUsage();
    assert.match(help, /add echo-test NAME --echo-host H \[options\]\s+add a test-only kind/);
    assert.match(help, /Options for "add echo-test":\n\s+--echo-host H\s+the host to echo/);
    assert.match(help, /--echo-password-env VAR/);
    let out = '';
    let err = '';
    const io = { out: (s: string) => (out += s), err: (s: string) => (err += s), env: { ECHO_PW: 'pw' } };
    assert.equal(await runClusterCli(['add', 'echo-test', 'E', '--data-dir', dir], io), 2);
    assert.match(err, /add echo-test needs --echo-host H/);
    err = '';
    const code = await runClusterCli(
      ['add', 'echo-test', 'E', '--echo-host', 'h1', '--echo-password-env', 'ECHO_PW', '--data-dir', dir],
      io,
    );
    assert.equal(code, 0, err);
    assert.match(out, /Added echo-test cluster "E"/);
    assert.match(out, /password stored/);
    out = '';
    assert.equal(await runClusterCli(['list', '--data-dir', dir], io), 0);
    assert.match(out, /E\s+echo-test echo at h1/);
  });

  test('the store keeps it and checks it with its own schema and checks', () => {
    const store = ClusterStore.open(dir);
    const c = store.require('E');
    assert.equal(c.kind, 'echo-test');
    assert.equal((c as EchoConfig).host, 'h1');
    assert.throws(() => store.update({ ...c, host: 'two words' } as EchoConfig), /a host name has no spaces/);
    assert.throws(() => store.update({ ...c, host: '' } as EchoConfig), /host/);
    store.close();
  });

  test('the host API lists it with its fields and gives the same verdict', async () => {
    const service = new HostService({ backend: new FakeBackend(dir), shell: 'browser', healthIntervalMs: 0 });
    const kinds = await service.listClusterKinds();
    const info = kinds.find((k) => k.kind === 'echo-test');
    assert.ok(info);
    assert.deepEqual(
      info.fields.map((f) => f.key),
      ['host', 'password'],
    );
    assert.deepEqual(
      Object.keys(await service.checkCluster({ name: 'X', kind: 'echo-test', settings: {} })),
      ['host'],
    );
    const bad = await service.checkCluster({ name: 'X', kind: 'echo-test', settings: { host: 'a b' } });
    assert.equal(bad.host, 'a host name has no spaces');

    // The form: its model is drawn from the listed fields and its input passes the same validator.
    const form = formFor(info, 'Echo two');
    assert.deepEqual(Object.keys(form.text).sort(), ['host', 'password']);
    form.text.host = 'h2';
    const input = toInput(info, form);
    assert.deepEqual(input, { name: 'Echo two', kind: 'echo-test', settings: { host: 'h2', password: '' } });
    assert.deepEqual(checkClusterInput(input), {});
    service.close();
  });
});
