// Decoding of the connection info that Gateway Provisioners' remote launchers send to the host (payload version 1,
// reference §2.3–2.4): outer base64 -> JSON envelope {version: 1, key, conn_info} -> RSA PKCS#1 v1.5 unwrap of a
// 16-byte AES key -> AES-128-ECB with PKCS#7 -> the kernel's connection JSON. Pure: no I/O, no logging.
//
// The legacy "version 0" fallback of Gateway Provisioners (AES keyed with the first 16 characters of the kernel id,
// tried when version 1 fails) is deliberately not implemented: the kernel id is no secret, so anyone who can reach
// the listener could forge a kernel's connection info. Only version 1 payloads are accepted.
import { constants, createDecipheriv, createHash, privateDecrypt, type KeyObject } from 'node:crypto';

export type PayloadErrorReason = 'malformed' | 'version' | 'key' | 'cipher' | 'json' | 'fields';

/** Why a payload was refused; `reason` says at which step, the message what was wrong. */
export class PayloadError extends Error {
  override readonly name = 'PayloadError';
  constructor(
    readonly reason: PayloadErrorReason,
    message: string,
  ) {
    super(message);
  }
}

/** A remote kernel's connection info as its launcher reports it. */
export interface V1Payload {
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  /** Often "0.0.0.0" (the launcher binds all interfaces): the caller substitutes the host it reached. */
  ip: string;
  /** HMAC key of the kernel's messages (a uuid4 string from Gateway Provisioners' launchers). */
  key: string;
  transport: string;
  signature_scheme: string;
  kernel_name?: string;
  /** The kernel's pid (Python and R launchers), or the JVM's pid as a string (Toree). */
  pid: number | string;
  /** Process group of `pid` (Python and R launchers only). */
  pgid?: number;
  /** The launcher's comm port (signals, shutdown; §2.5). */
  comm_port: number;
  kernel_id: string;
}

/** A decoded payload and a tag unique to its wrapped AES key, so that a listener can refuse a replay. */
export interface DecodedV1Payload {
  payload: V1Payload;
  replayTag: string;
}

const AES_KEY_BYTES = 16;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decode a version 1 wire message with the listener's private key; throws PayloadError. */
export function decodeV1Payload(wire: string, privateKey: KeyObject): V1Payload {
  return decodeV1PayloadTagged(wire, privateKey).payload;
}

/** decodeV1Payload, plus the replay tag (a hash of the RSA-wrapped key, never of the secret itself). */
export function decodeV1PayloadTagged(wire: string, privateKey: KeyObject): DecodedV1Payload {
  const envelope = parseEnvelope(wire);
  const aesKey = unwrapAesKey(envelope.wrappedKey, privateKey);
  const plain = aesDecrypt(envelope.cipherText, aesKey);
  aesKey.fill(0);
  const payload = validateFields(parsePlainJson(plain));
  return { payload, replayTag: createHash('sha256').update(envelope.wrappedKey).digest('hex') };
}

/** Strict base64 (the launchers never add line breaks); `what` names the field in the error. */
function strictBase64(text: string, what: string): Buffer {
  const compact = text.replace(/[\r\n\t ]+/g, '');
  if (compact.length === 0 || compact.length % 4 !== 0 || !BASE64.test(compact)) {
    throw new PayloadError('malformed', `${what} is not base64 (length ${text.length})`);
  }
  return Buffer.from(compact, 'base64');
}

function parseEnvelope(wire: string): { wrappedKey: Buffer; cipherText: Buffer } {
  const outer = strictBase64(wire, 'the response (outer base64 of the JSON envelope)');
  let envelope: unknown;
  try {
    envelope = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(outer));
  } catch {
    throw new PayloadError(
      'malformed',
      'the response is not a JSON envelope {"version": 1, "key", "conn_info"} (truncated, or a legacy version 0 launcher, which this host refuses)',
    );
  }
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) {
    throw new PayloadError('malformed', 'the response envelope is not a JSON object');
  }
  const env = envelope as Record<string, unknown>;
  if (env.version !== 1) {
    const v = env.version === undefined ? 'missing (legacy version 0)' : JSON.stringify(env.version);
    throw new PayloadError(
      'version',
      `payload version ${v} is not supported: this host accepts version 1 only (update the kernel launcher)`,
    );
  }
  if (typeof env.key !== 'string' || typeof env.conn_info !== 'string') {
    throw new PayloadError('malformed', 'the envelope lacks "key" or "conn_info" strings');
  }
  return {
    wrappedKey: strictBase64(env.key, 'the envelope\'s "key"'),
    cipherText: strictBase64(env.conn_info, 'the envelope\'s "conn_info"'),
  };
}

/** 1 when b === 0, else 0, without a branch (b is a byte). */
function isZeroByte(b: number): number {
  return ((b - 1) >>> 31) & 1;
}

/**
 * RSA PKCS#1 v1.5 (type 2) decryption of the 16-byte AES key. Node 20 refuses RSA_PKCS1_PADDING for private
 * decryption (CVE-2023-46809), so this is a raw RSA operation and an unpad that looks at every byte whatever it
 * finds (no early exit that would time a padding oracle). The encoded block must be
 * 00 02 PS(>= 8 non-zero bytes) 00 M with M exactly 16 bytes.
 */
function unwrapAesKey(wrapped: Buffer, privateKey: KeyObject): Buffer {
  const bits = privateKey.asymmetricKeyDetails?.modulusLength;
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'rsa' || !bits) {
    throw new TypeError('decodeV1Payload needs an RSA private key');
  }
  const k = Math.ceil(bits / 8);
  if (k < AES_KEY_BYTES + 11) throw new TypeError(`a ${bits}-bit RSA key is too small to wrap an AES key`);
  if (wrapped.length !== k) {
    throw new PayloadError(
      'key',
      `the wrapped AES key is ${wrapped.length} bytes, not ${k}: it was not encrypted for this listener's ${bits}-bit key`,
    );
  }
  let em: Buffer;
  try {
    em = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, wrapped);
  } catch {
    throw new PayloadError(
      'key',
      "the AES key was not encrypted for this listener's public key (the wrapped key exceeds its modulus)",
    );
  }
  const sep = k - AES_KEY_BYTES - 1; // where the 00 separator must be
  let bad = em.length ^ k;
  bad |= em[0];
  bad |= em[1] ^ 2;
  for (let i = 2; i < sep; i++) bad |= isZeroByte(em[i]); // padding string: all non-zero (k >= 27, so at least 8 bytes)
  bad |= em[sep];
  const aesKey = Buffer.from(em.subarray(k - AES_KEY_BYTES));
  em.fill(0);
  if (bad !== 0) {
    aesKey.fill(0);
    throw new PayloadError('key', "the AES key was not encrypted for this listener's public key");
  }
  return aesKey;
}

function aesDecrypt(cipherText: Buffer, aesKey: Buffer): Buffer {
  if (cipherText.length === 0 || cipherText.length % 16 !== 0) {
    throw new PayloadError('cipher', `conn_info is ${cipherText.length} bytes, not whole AES blocks`);
  }
  try {
    const decipher = createDecipheriv('aes-128-ecb', aesKey, null); // auto padding = PKCS#7
    return Buffer.concat([decipher.update(cipherText), decipher.final()]);
  } catch {
    throw new PayloadError(
      'cipher',
      'conn_info does not decrypt with the wrapped AES key (bad PKCS#7 padding)',
    );
  }
}

function parsePlainJson(plain: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plain));
  } catch {
    throw new PayloadError('json', 'the decrypted connection info is not UTF-8 JSON');
  } finally {
    plain.fill(0);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PayloadError('json', 'the decrypted connection info is not a JSON object');
  }
  return value as Record<string, unknown>;
}

function fieldError(name: string, want: string, got: unknown): PayloadError {
  const shown = got === undefined ? 'missing' : typeof got === 'string' ? 'a string' : JSON.stringify(got);
  return new PayloadError('fields', `connection info field "${name}" must be ${want} (got ${shown})`);
}

function port(o: Record<string, unknown>, name: string): number {
  const v = o[name];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
    throw fieldError(name, 'a TCP port 1..65535', v);
  }
  return v;
}

function text(o: Record<string, unknown>, name: string, allowEmpty = false): string {
  const v = o[name];
  if (typeof v !== 'string' || (!allowEmpty && v.length === 0) || v.length > 1024) {
    throw fieldError(name, allowEmpty ? 'a string' : 'a non-empty string', v);
  }
  return v;
}

function positiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

function validateFields(o: Record<string, unknown>): V1Payload {
  const out: V1Payload = {
    shell_port: port(o, 'shell_port'),
    iopub_port: port(o, 'iopub_port'),
    stdin_port: port(o, 'stdin_port'),
    control_port: port(o, 'control_port'),
    hb_port: port(o, 'hb_port'),
    ip: text(o, 'ip'),
    key: text(o, 'key', true),
    transport: text(o, 'transport'),
    signature_scheme: text(o, 'signature_scheme'),
    pid: 0,
    comm_port: port(o, 'comm_port'),
    kernel_id: text(o, 'kernel_id'),
  };
  if (out.transport !== 'tcp') throw fieldError('transport', '"tcp" for a remote kernel', out.transport);
  if (!out.signature_scheme.startsWith('hmac-')) {
    throw fieldError('signature_scheme', 'an "hmac-…" scheme', out.signature_scheme);
  }
  if (o.kernel_name !== undefined) out.kernel_name = text(o, 'kernel_name', true);
  const pid = o.pid;
  if (positiveInt(pid)) out.pid = pid;
  else if (typeof pid === 'string' && /^[1-9][0-9]{0,9}$/.test(pid)) out.pid = pid;
  else throw fieldError('pid', 'a positive integer (or its decimal string)', pid);
  if (o.pgid !== undefined) {
    if (!positiveInt(o.pgid)) throw fieldError('pgid', 'a positive integer', o.pgid);
    out.pgid = o.pgid;
  }
  return out;
}
