// "Test connection" against real servers: all well (version + kernelspec count), wrong or missing token,
// a URL that is not a gateway (404), DNS failure, refused connection, a connect timeout, a gateway that forbids
// listing kernels, and a self-signed TLS upstream (refused with the certificate reason; accepted with a CA file).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeGatewayConfig, secretKeys, type GatewayInput } from '../config';
import { createSecretStore, type SecretStore } from '../../secrets/secret-store';
import { diagnoseGateway } from '../diagnose';
import { GatewayClusterRuntime } from '../gateway/runtime';
import {
  freePort,
  makeSelfSignedCert,
  startBlackhole,
  startJupyterServer,
  tempDir,
  type JupyterServer,
} from './helpers';

describe('diagnosis', { timeout: 180_000 }, () => {
  let upstream: JupyterServer;
  let tlsUpstream: JupyterServer;
  let dir: string;
  let secrets: SecretStore;
  let cert: { cert: string; key: string };

  const cfg = (input: Partial<GatewayInput> & { url: string }, token?: string) => {
    const id = `c${Math.random().toString(36).slice(2, 8)}`;
    if (token !== undefined) secrets.set(secretKeys.token(id), token);
    return makeGatewayConfig({
      id,
      name: input.name ?? 'University',
      tokenSecret: token !== undefined ? secretKeys.token(id) : undefined,
      ...input,
    });
  };

  before(
    async () => {
      dir = tempDir();
      secrets = createSecretStore({ dataDir: dir });
      cert = makeSelfSignedCert(dir);
      [upstream, tlsUpstream] = await Promise.all([
        startJupyterServer(),
        startJupyterServer({ certfile: cert.cert, keyfile: cert.key }),
      ]);
    },
    { timeout: 90_000 },
  );

  after(
    async () => {
      await Promise.all([upstream?.stop(), tlsUpstream?.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
    { timeout: 90_000 },
  );

  test('all well: version and kernelspec count', async () => {
    const d = await diagnoseGateway(cfg({ url: upstream.url }, upstream.token), secrets);
    assert.equal(d.ok, true, JSON.stringify(d));
    assert.equal(d.code, 'ok');
    assert.equal(d.serverVersion, '1.23.3');
    assert.ok((d.kernelspecCount ?? 0) >= 1);
    assert.ok(d.kernelspecNames?.includes('python3'));
    assert.match(d.detail, /version 1\.23\.3/);
  });

  test(
    'https against a plain http port: "use http://", without waiting for the request timeout',
    { timeout: 30_000 },
    async () => {
      // Jupyter Server never answers a TLS hello: before, this waited for the request timeout and blamed a firewall.
      const httpsUrl = upstream.url.replace(/^http:/, 'https:');
      const d = await diagnoseGateway(cfg({ url: httpsUrl }, upstream.token), secrets, {
        requestTimeoutMs: 120_000,
      });
      assert.equal(d.code, 'tls', JSON.stringify(d));
      assert.match(d.title, /speaks http, not https/);
      assert.match(
        d.hint,
        new RegExp(`Change the URL to ${upstream.url.replace(/\/$/, '').replace(/[.:/]/g, '\\$&')}`),
      );
      // A real TLS server (Jupyter Server with a certificate) is not taken for plain http: see the TLS test.
    },
  );

  test('wrong token: the clear 401/403 diagnosis', async () => {
    const d = await diagnoseGateway(cfg({ url: upstream.url }, 'not-the-token'), secrets);
    assert.equal(d.ok, false);
    assert.equal(d.code, 'unauthorized', JSON.stringify(d));
    assert.ok(d.httpStatus === 401 || d.httpStatus === 403);
    assert.match(d.title, /did not accept your token/);
    assert.match(d.hint, /token/);
  });

  test('missing token: says none is set', async () => {
    const d = await diagnoseGateway(cfg({ url: upstream.url }), secrets);
    assert.equal(d.code, 'unauthorized', JSON.stringify(d));
    assert.match(d.title, /needs a token, and none is set/);
  });

  test('404: the URL is not a gateway (base path)', async () => {
    const d = await diagnoseGateway(cfg({ url: `${upstream.url}/not/here` }, upstream.token), secrets);
    assert.equal(d.code, 'not-a-gateway', JSON.stringify(d));
    assert.match(d.title, /not a Jupyter gateway/);
    assert.match(d.hint, /base path "\/not\/here\/"/);
  });

  test('DNS failure', async () => {
    const d = await diagnoseGateway(cfg({ url: 'http://no-such-gateway.invalid:8888' }), secrets);
    assert.equal(d.code, 'dns', JSON.stringify(d));
    assert.match(d.title, /cannot be found/);
  });

  test('refused connection', async () => {
    const port = await freePort();
    const d = await diagnoseGateway(cfg({ url: `http://127.0.0.1:${port}` }), secrets);
    assert.equal(d.code, 'refused', JSON.stringify(d));
    assert.match(d.title, /refused the connection/);
  });

  test('unreachable host: a clear error within the connect timeout (diagnosis and runtime)', async () => {
    const hole = await startBlackhole();
    try {
      const c = cfg({ url: `http://127.0.0.1:${hole.port}`, timeouts: { connectMs: 1500 } });
      const t0 = Date.now();
      const d = await diagnoseGateway(c, secrets);
      const took = Date.now() - t0;
      assert.equal(d.code, 'timeout', JSON.stringify(d));
      assert.match(d.detail, /within 1\.5 s/);
      assert.ok(took < 4000, `took ${took} ms`);

      const rt = new GatewayClusterRuntime(c, secrets);
      const t1 = Date.now();
      await assert.rejects(rt.listKernelSpecs(), /could not connect to 127\.0\.0\.1:\d+ within 1\.5 s/);
      await assert.rejects(
        rt.startKernel({ kernelId: 'k1', specName: 'python3', env: {} }),
        /could not connect to 127\.0\.0\.1:\d+ within 1\.5 s/,
      );
      assert.ok(Date.now() - t1 < 6000);
      await rt.dispose();
    } finally {
      hole.stop();
    }
  });

  test('a gateway that forbids listing kernels (EG_LIST_KERNELS off)', async () => {
    // A stand-in that answers like Enterprise Gateway with listing disabled.
    const server = http.createServer((req, res) => {
      res.setHeader('Content-Type', 'application/json');
      if (req.headers.authorization !== 'token eg-token') {
        res.statusCode = 401;
        res.end(JSON.stringify({ reason: 'Unauthorized', message: 'Unauthorized' }));
      } else if (req.url === '/api') {
        res.end(JSON.stringify({ version: '1.24.0', gateway_version: '3.2.3' }));
      } else if (req.url?.startsWith('/api/kernelspecs')) {
        res.end(JSON.stringify({ default: 'python3', kernelspecs: { python3: {}, spark: {} } }));
      } else if (req.url === '/api/kernels') {
        res.statusCode = 403;
        res.end(JSON.stringify({ reason: 'Forbidden', message: 'Forbidden' }));
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const d = await diagnoseGateway(cfg({ url: `http://127.0.0.1:${port}` }, 'eg-token'), secrets);
      assert.equal(d.code, 'list-forbidden', JSON.stringify(d));
      assert.equal(d.ok, true);
      assert.equal(d.severity, 'warning');
      assert.equal(d.gatewayVersion, '3.2.3');
      assert.equal(d.kernelspecCount, 2);
      assert.match(d.hint, /EG_LIST_KERNELS=True/);
      const bad = await diagnoseGateway(cfg({ url: `http://127.0.0.1:${port}` }, 'wrong'), secrets);
      assert.equal(bad.code, 'unauthorized');
      assert.equal(bad.httpStatus, 401);
    } finally {
      server.close();
    }
  });

  test('self-signed TLS: refused with the certificate reason, accepted with --ca-file', async () => {
    const d = await diagnoseGateway(cfg({ url: tlsUpstream.url }, tlsUpstream.token), secrets);
    assert.equal(d.code, 'tls', JSON.stringify(d));
    assert.match(d.title, /self-signed certificate/);
    assert.match(d.detail, /CN=university-gateway\.test/);
    assert.ok(d.certificate?.selfSigned);
    assert.match(d.hint, /--ca-file/);

    const ok = await diagnoseGateway(
      cfg({ url: tlsUpstream.url, caFile: cert.cert }, tlsUpstream.token),
      secrets,
    );
    assert.equal(ok.code, 'ok', JSON.stringify(ok));

    const insecure = await diagnoseGateway(
      cfg({ url: tlsUpstream.url, validateCert: false }, tlsUpstream.token),
      secrets,
    );
    assert.equal(insecure.code, 'ok', JSON.stringify(insecure));

    // Hostname mismatch: a trusted certificate made for another name.
    const other = makeSelfSignedCert(dir, 'other-host.test', 'DNS:other-host.test', 'other-');
    const tlsServer = https.createServer(
      { cert: readFileSync(other.cert), key: readFileSync(other.key) },
      (_req, res) => res.end('{}'),
    );
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', () => r()));
    try {
      const p = (tlsServer.address() as { port: number }).port;
      const mismatch = await diagnoseGateway(
        cfg({ url: `https://localhost:${p}`, caFile: other.cert }),
        secrets,
      );
      assert.equal(mismatch.code, 'tls', JSON.stringify(mismatch));
      assert.match(mismatch.title, /hostname mismatch/);
      assert.match(mismatch.hint, /CN=other-host\.test/);
    } finally {
      tlsServer.close();
    }

    // The relay itself also refuses, and works with the CA file.
    const rt = new GatewayClusterRuntime(cfg({ url: tlsUpstream.url }, tlsUpstream.token), secrets);
    await assert.rejects(rt.listKernelSpecs(), /self-signed certificate/);
    await rt.dispose();
    const rt2 = new GatewayClusterRuntime(
      cfg({ url: tlsUpstream.url, caFile: cert.cert }, tlsUpstream.token),
      secrets,
    );
    const specs = await rt2.listKernelSpecs();
    assert.ok(specs.specs.some((s) => s.name === 'python3'));
    await rt2.dispose();
  });

  test('unreadable CA file: a config diagnosis', async () => {
    const d = await diagnoseGateway(cfg({ url: tlsUpstream.url, caFile: join(dir, 'missing.pem') }), secrets);
    assert.equal(d.code, 'config');
    assert.match(d.detail, /cannot read the CA bundle file/);
  });
});
