// decodeV1Payload: payloads built by pycryptodome as the launchers build them, the Toree (Scala) variant, and
// every way a payload can be wrong, each refused with its step (`reason`) and a message that says what was wrong.
// The RSA unpad is exercised with hand-made encoded blocks (raw RSA), since it is written here, not by OpenSSL.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  constants,
  createCipheriv,
  generateKeyPairSync,
  publicEncrypt,
  randomBytes,
  randomUUID,
  type KeyObject,
} from 'node:crypto';
import { describe, test } from 'node:test';
import { decodeV1Payload, decodeV1PayloadTagged, PayloadError, type PayloadErrorReason } from '../payload-v1';

const PYTHON = '/usr/bin/python3';
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
const K = 128; // modulus bytes
const PUBLIC_B64 = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

function info(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    shell_port: 50001,
    iopub_port: 50002,
    stdin_port: 50003,
    control_port: 50004,
    hb_port: 50005,
    ip: '0.0.0.0',
    key: randomUUID(),
    transport: 'tcp',
    signature_scheme: 'hmac-sha256',
    kernel_name: '',
    pid: 4242,
    pgid: 4242,
    comm_port: 50006,
    kernel_id: randomUUID(),
    ...extra,
  };
}

function aesEcb(plain: Buffer, key: Buffer, autoPadding = true): Buffer {
  const c = createCipheriv('aes-128-ecb', key, null);
  c.setAutoPadding(autoPadding);
  return Buffer.concat([c.update(plain), c.final()]);
}

/** PKCS#1 v1.5 type 2 block 00 02 PS 00 M, for raw RSA (so tests can break it on purpose). */
function encodedBlock(message: Buffer): Buffer {
  const ps = Buffer.alloc(K - 3 - message.length);
  for (let i = 0; i < ps.length; i++) ps[i] = 1 + Math.floor(Math.random() * 255);
  return Buffer.concat([Buffer.from([0, 2]), ps, Buffer.from([0]), message]);
}

function rawRsa(block: Buffer, key: KeyObject = publicKey): Buffer {
  return publicEncrypt({ key, padding: constants.RSA_NO_PADDING }, block);
}

interface Parts {
  version?: unknown;
  wrappedKey?: Buffer;
  aesKey?: Buffer;
  cipherText?: Buffer;
  plain?: string | Buffer;
  pretty?: boolean;
}

/** A wire message as §2.4 describes it, with any part replaceable. */
function wire(p: Parts = {}): string {
  const aesKey = p.aesKey ?? randomBytes(16);
  const plain = p.plain ?? JSON.stringify(info());
  const cipherText = p.cipherText ?? aesEcb(Buffer.from(plain), aesKey);
  const wrappedKey = p.wrappedKey ?? rawRsa(encodedBlock(aesKey));
  const envelope = {
    version: 'version' in p ? p.version : 1,
    key: wrappedKey.toString('base64'),
    conn_info: cipherText.toString('base64'),
  };
  return Buffer.from(JSON.stringify(envelope, null, p.pretty ? 2 : undefined)).toString('base64');
}

function refuses(w: string, reason: PayloadErrorReason, message: RegExp): void {
  assert.throws(
    () => decodeV1Payload(w, privateKey),
    (err: unknown) => {
      assert.ok(err instanceof PayloadError, `not a PayloadError: ${String(err)}`);
      assert.equal(err.reason, reason, err.message);
      assert.match(err.message, message);
      return true;
    },
  );
}

const hasCryptodome = spawnSync(PYTHON, ['-c', 'import Cryptodome'], { stdio: 'ignore' }).status === 0;

describe('decodeV1Payload', () => {
  test(
    'decodes what pycryptodome builds as the Python launcher does',
    { skip: hasCryptodome ? false : `${PYTHON} lacks Cryptodome (apt-get install python3-pycryptodome)` },
    () => {
      const sent = info();
      const script = `
import base64, json, sys
from Cryptodome.Cipher import AES, PKCS1_v1_5
from Cryptodome.PublicKey import RSA
from Cryptodome.Random import get_random_bytes
from Cryptodome.Util.Padding import pad
aes_key = get_random_bytes(16)
conn_info = base64.b64encode(AES.new(aes_key, AES.MODE_ECB).encrypt(pad(sys.argv[2].encode("utf-8"), 16)))
key = base64.b64encode(PKCS1_v1_5.new(RSA.importKey(base64.b64decode(sys.argv[1]))).encrypt(aes_key))
env = json.dumps({"version": 1, "key": key.decode(), "conn_info": conn_info.decode()}, separators=(", ", ": "))
sys.stdout.write(base64.b64encode(env.encode("utf-8")).decode())
`;
      const out = spawnSync(PYTHON, ['-c', script, PUBLIC_B64, JSON.stringify(sent)], { encoding: 'utf8' });
      assert.equal(out.status, 0, out.stderr);
      assert.deepEqual(decodeV1Payload(out.stdout, privateKey), sent);
    },
  );

  test("decodes Toree's variant: pretty-printed JSON, pid as a string, no pgid", () => {
    const sent = info({ pid: '31337', kernel_name: 'Apache Toree Scala' });
    delete sent.pgid;
    const got = decodeV1Payload(wire({ plain: JSON.stringify(sent, null, 2), pretty: true }), privateKey);
    assert.deepEqual(got, sent);
  });

  test('keeps only the protocol fields, and tags each payload by its wrapped key', () => {
    const sent = info();
    const w = wire({ plain: JSON.stringify({ ...sent, extra: 'x' }) });
    const a = decodeV1PayloadTagged(w, privateKey);
    assert.deepEqual(a.payload, sent);
    assert.equal(a.replayTag, decodeV1PayloadTagged(w, privateKey).replayTag);
    assert.notEqual(
      a.replayTag,
      decodeV1PayloadTagged(wire({ plain: JSON.stringify(sent) }), privateKey).replayTag,
    );
  });

  test('refuses what is not a version 1 envelope (malformed)', () => {
    refuses('', 'malformed', /not base64/);
    refuses('not base64 at all!', 'malformed', /not base64/);
    refuses(wire().slice(0, 40), 'malformed', /not a JSON envelope.*truncated/);
    refuses(Buffer.from('[1, 2]').toString('base64'), 'malformed', /not a JSON object/);
    refuses(
      Buffer.from('{"version": 1, "key": "AAAA"}').toString('base64'),
      'malformed',
      /lacks "key" or "conn_info"/,
    );
    const env = { version: 1, key: 'a*b', conn_info: 'AAAA' };
    refuses(Buffer.from(JSON.stringify(env)).toString('base64'), 'malformed', /"key" is not base64/);
    // A legacy version 0 payload is base64 of AES ciphertext, not of an envelope.
    refuses(
      aesEcb(Buffer.from(JSON.stringify(info())), randomBytes(16)).toString('base64'),
      'malformed',
      /version 0/,
    );
  });

  test('refuses other payload versions', () => {
    refuses(wire({ version: 2 }), 'version', /version 2 is not supported.*version 1 only/);
    refuses(wire({ version: 0 }), 'version', /version 0 is not supported/);
    refuses(wire({ version: '1' }), 'version', /version "1" is not supported/);
    refuses(wire({ version: undefined }), 'version', /missing \(legacy version 0\)/);
  });

  test('refuses an AES key not wrapped for this key pair (key)', () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    const aesKey = randomBytes(16);
    refuses(
      wire({ aesKey, wrappedKey: rawRsa(encodedBlock(aesKey), other) }),
      'key',
      /not encrypted for this/,
    );
    refuses(wire({ wrappedKey: randomBytes(64) }), 'key', /64 bytes, not 128.*1024-bit/);
    refuses(
      wire({ wrappedKey: Buffer.alloc(K, 0xff) }),
      'key',
      /not encrypted for this.*exceeds its modulus/,
    ); // larger than the modulus
  });

  test('the hand-written PKCS#1 v1.5 unpad accepts only 00 02 PS(non-zero) 00 and a 16-byte key', () => {
    const aesKey = randomBytes(16);
    const good = encodedBlock(aesKey);
    assert.equal(decodeV1Payload(wire({ aesKey, wrappedKey: rawRsa(good) }), privateKey).ip, '0.0.0.0');
    const broken: [string, (b: Buffer) => void][] = [
      ['type 1 instead of 2', (b) => (b[1] = 1)],
      ['a zero inside the padding string', (b) => (b[50] = 0)],
      ['a zero as the first padding byte', (b) => (b[2] = 0)],
      ['no zero separator', (b) => (b[K - 17] = 7)],
    ];
    for (const [what, spoil] of broken) {
      const b = Buffer.from(good);
      spoil(b);
      assert.throws(
        () => decodeV1Payload(wire({ aesKey, wrappedKey: rawRsa(b) }), privateKey),
        /not encrypted/,
        what,
      );
    }
    for (const len of [15, 17, 32]) {
      const key = randomBytes(len);
      assert.throws(
        () => decodeV1Payload(wire({ aesKey: aesKey, wrappedKey: rawRsa(encodedBlock(key)) }), privateKey),
        (err: unknown) => err instanceof PayloadError && err.reason === 'key',
        `a ${len}-byte message`,
      );
    }
  });

  test('refuses conn_info that does not decrypt (cipher)', () => {
    refuses(wire({ cipherText: randomBytes(20) }), 'cipher', /20 bytes, not whole AES blocks/);
    const aesKey = randomBytes(16);
    const badPadding = aesEcb(Buffer.alloc(16, 0), aesKey, false); // last byte 0: never valid PKCS#7
    refuses(wire({ aesKey, cipherText: badPadding }), 'cipher', /bad PKCS#7 padding/);
  });

  test('refuses decrypted text that is not a JSON object (json)', () => {
    refuses(wire({ plain: 'hello' }), 'json', /not UTF-8 JSON/);
    refuses(wire({ plain: Buffer.from([0x7b, 0xff, 0x7d]) }), 'json', /not UTF-8 JSON/);
    refuses(wire({ plain: '[1]' }), 'json', /not a JSON object/);
  });

  test('refuses connection info with missing or wrong fields (fields)', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ shell_port: 0 }, /"shell_port" must be a TCP port 1..65535 \(got 0\)/],
      [{ hb_port: 70000 }, /"hb_port" must be a TCP port/],
      [{ iopub_port: '50002' }, /"iopub_port" must be a TCP port .*got a string/],
      [{ control_port: 1.5 }, /"control_port"/],
      [{ comm_port: undefined }, /"comm_port" .*missing/],
      [{ ip: '' }, /"ip" must be a non-empty string/],
      [{ key: 42 }, /"key" must be a string/],
      [{ transport: 'ipc' }, /"transport" must be "tcp"/],
      [{ signature_scheme: 'none' }, /"signature_scheme" must be an "hmac-…" scheme/],
      [{ pid: -1 }, /"pid" must be a positive integer/],
      [{ pid: 'java' }, /"pid"/],
      [{ pgid: 0 }, /"pgid" must be a positive integer/],
      [{ kernel_id: undefined }, /"kernel_id" .*missing/],
      [{ kernel_name: 5 }, /"kernel_name" must be a string/],
    ];
    for (const [change, message] of cases) {
      const plain = JSON.stringify(info(change)); // undefined values drop out: a missing field
      refuses(wire({ plain }), 'fields', message);
    }
  });
});
