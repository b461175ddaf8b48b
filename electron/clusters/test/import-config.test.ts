// Importing the gateway settings a user already has: JUPYTER_GATEWAY_* variables and c.GatewayClient.* in
// jupyter_server_config.py/.json, with traitlets' precedence; the .py file is read, never run.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { importGatewaySettings, parsePyLiteral, addImportedGateway } from '../import-config';
import { ClusterStore } from '../store';
import { createSecretStore } from '../../secrets/secret-store';
import { tempDir } from './helpers';

describe('import gateway settings', () => {
  test('nothing configured: null', () => {
    const home = tempDir();
    try {
      assert.equal(
        importGatewaySettings({ env: { HOME: home }, home, configDirs: [path.join(home, '.jupyter')] }),
        null,
      );
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  test('environment variables', () => {
    const home = tempDir();
    try {
      const r = importGatewaySettings({
        env: {
          JUPYTER_GATEWAY_URL: 'https://gw.example.edu:8888',
          JUPYTER_GATEWAY_AUTH_TOKEN: 'tok',
          JUPYTER_GATEWAY_HTTP_USER: 'alice',
          JUPYTER_GATEWAY_HTTP_PWD: 'pw',
          JUPYTER_GATEWAY_HEADERS: '{"X-Course": "ml101"}',
          JUPYTER_GATEWAY_VALIDATE_CERT: 'no',
          JUPYTER_GATEWAY_REQUEST_TIMEOUT: '60',
          JUPYTER_GATEWAY_ALLOWED_ENVS: 'SPARK_HOME, MY_VAR',
        },
        home,
        configDirs: [],
      });
      assert.ok(r);
      assert.equal(r.input.url, 'https://gw.example.edu:8888');
      assert.equal(r.token, 'tok');
      assert.equal(r.input.httpUser, 'alice');
      assert.equal(r.httpPassword, 'pw');
      assert.deepEqual(r.input.headers, { 'X-Course': 'ml101' });
      assert.equal(r.input.validateCert, false);
      assert.equal(r.input.timeouts?.requestMs, 60_000);
      assert.deepEqual(r.input.forwardEnv, ['SPARK_HOME', 'MY_VAR']);
      assert.equal(r.sources.url, 'environment JUPYTER_GATEWAY_URL');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  test('c.GatewayClient.* in .py and .json: files win over env, user dir over system, json over py', () => {
    const home = tempDir();
    try {
      const sys = path.join(home, 'sys');
      const user = path.join(home, '.jupyter');
      mkdirSync(sys, { recursive: true });
      mkdirSync(user, { recursive: true });
      writeFileSync(
        path.join(sys, 'jupyter_server_config.py'),
        "c.GatewayClient.url = 'http://system:8888'\n",
      );
      writeFileSync(
        path.join(user, 'jupyter_server_config.py'),
        [
          'c = get_config()  # noqa',
          "c.GatewayClient.url = 'https://user.example.edu/gw'  # the university",
          'c.GatewayClient.auth_token = "py-token"',
          'c.GatewayClient.connect_timeout = 30.0',
          "c.GatewayClient.auth_scheme = 'Bearer'",
          'c.GatewayClient.headers = \'{"X-A": "1"}\'',
          "c.GatewayClient.ca_certs = os.path.join(HOME, 'ca.pem')",
          'import os; os.system("echo this file is never executed")',
        ].join('\n'),
      );
      writeFileSync(
        path.join(user, 'jupyter_server_config.json'),
        JSON.stringify({ GatewayClient: { auth_token: 'json-token' } }),
      );
      const r = importGatewaySettings({
        env: { JUPYTER_GATEWAY_URL: 'http://env:1' },
        home,
        configDirs: [sys, user],
      });
      assert.ok(r);
      assert.equal(r.input.url, 'https://user.example.edu/gw');
      assert.equal(r.sources.url, '~/.jupyter/jupyter_server_config.py:2');
      assert.equal(r.token, 'json-token');
      assert.equal(r.input.timeouts?.connectMs, 30_000);
      assert.equal(r.input.authScheme, 'Bearer');
      assert.deepEqual(r.input.headers, { 'X-A': '1' });
      assert.ok(
        r.warnings.some((w) => /ca_certs is not a plain value/.test(w)),
        r.warnings.join('\n'),
      );

      const dataDir = tempDir();
      try {
        const store = ClusterStore.open(dataDir);
        const secrets = createSecretStore({ dataDir });
        const cfg = addImportedGateway(store, secrets, r, 'My University');
        assert.equal(cfg.id, 'my-university');
        assert.equal(secrets.get(cfg.auth.tokenSecret ?? ''), 'json-token');
        assert.equal(store.get('My University')?.kind, 'gateway');
        store.close();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  test('python literals', () => {
    assert.equal(parsePyLiteral("'a b'"), 'a b');
    assert.equal(parsePyLiteral('"it\\"s"'), 'it"s');
    assert.equal(parsePyLiteral("r'C:\\x'"), 'C:\\x');
    assert.equal(parsePyLiteral('42'), 42);
    assert.equal(parsePyLiteral('True'), true);
    assert.equal(parsePyLiteral('None'), null);
    assert.equal(parsePyLiteral("'a' + 'b'"), undefined);
    assert.equal(parsePyLiteral('os.environ["X"]'), undefined);
  });
});
