// Network and TLS failures toward a gateway, classified into a few kinds a person can act on.

export type NetFailure =
  | 'dns'
  | 'refused'
  | 'timeout'
  | 'tls'
  | 'reset'
  | 'unreachable'
  | 'bad-url'
  | 'http'
  | 'protocol'
  | 'unknown';

/** Error raised by the gateway client; `kind` and (for HTTP errors) `status` drive diagnosis and mapping. */
export class GatewayError extends Error {
  override name = 'GatewayError';
  constructor(
    message: string,
    readonly kind: NetFailure,
    readonly status?: number,
    readonly tlsReason?: string,
    readonly errno?: string,
    readonly body?: string,
  ) {
    super(message);
  }
}

const TLS_REASONS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in the certificate chain',
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  ERR_TLS_CERT_ALTNAME_INVALID: "hostname mismatch: the certificate is not for this server's name",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the certificate (issued by an unknown authority)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate issued by an authority this computer does not trust',
  UNABLE_TO_GET_ISSUER_CERT: 'unable to get the certificate of the issuer',
  CERT_UNTRUSTED: 'certificate is not trusted',
  CERT_REVOKED: 'certificate has been revoked',
  CERT_SIGNATURE_FAILURE: 'certificate signature is invalid',
  INVALID_CA: 'invalid certificate authority',
  ERR_SSL_WRONG_VERSION_NUMBER:
    'the server does not speak TLS here (is the URL http:// rather than https://?)',
  ERR_TLS_HANDSHAKE_TIMEOUT: 'the TLS handshake timed out',
};

interface ErrnoLike {
  code?: unknown;
  message?: unknown;
  reason?: unknown;
}

/** Classify a Node socket/TLS error. */
export function classifyNetError(err: unknown): { kind: NetFailure; code: string; tlsReason?: string } {
  if (err instanceof GatewayError) return { kind: err.kind, code: err.errno ?? '', tlsReason: err.tlsReason };
  const e = (err ?? {}) as ErrnoLike;
  const code = typeof e.code === 'string' ? e.code : '';
  const msg = typeof e.message === 'string' ? e.message : String(err);
  if (['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA'].includes(code))
    return { kind: 'dns', code };
  if (code === 'ECONNREFUSED') return { kind: 'refused', code };
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT') return { kind: 'timeout', code };
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL')
    return { kind: 'unreachable', code };
  if (code in TLS_REASONS) return { kind: 'tls', code, tlsReason: TLS_REASONS[code] };
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code === 'EPROTO' || /ssl|tls/i.test(msg)) {
    return { kind: 'tls', code, tlsReason: msg };
  }
  if (code === 'ECONNRESET' || code === 'EPIPE' || /socket hang up/.test(msg)) return { kind: 'reset', code };
  if (code.startsWith('HPE_')) return { kind: 'protocol', code };
  return { kind: 'unknown', code };
}

/** A one-line, human message for a network failure toward `url`. */
export function describeNetError(err: unknown, url: string, timeoutMs?: number): GatewayError {
  if (err instanceof GatewayError) return err;
  const c = classifyNetError(err);
  let host = url;
  try {
    host = new URL(url).host;
  } catch {
    // keep url
  }
  const raw = err instanceof Error ? err.message : String(err);
  switch (c.kind) {
    case 'dns':
      return new GatewayError(
        `cannot find the gateway host ${host} (DNS lookup failed: ${c.code})`,
        'dns',
        undefined,
        undefined,
        c.code,
      );
    case 'refused':
      return new GatewayError(
        `the gateway at ${host} refused the connection (nothing listens on that port)`,
        'refused',
        undefined,
        undefined,
        c.code,
      );
    case 'timeout':
      return new GatewayError(
        `no answer from the gateway at ${host}${timeoutMs ? ` within ${Math.round(timeoutMs / 100) / 10} s` : ''}`,
        'timeout',
        undefined,
        undefined,
        c.code,
      );
    case 'unreachable':
      return new GatewayError(
        `the gateway at ${host} cannot be reached (${c.code})`,
        'unreachable',
        undefined,
        undefined,
        c.code,
      );
    case 'tls':
      return new GatewayError(
        `TLS connection to ${host} refused: ${c.tlsReason ?? raw}`,
        'tls',
        undefined,
        c.tlsReason ?? raw,
        c.code,
      );
    case 'reset':
      return new GatewayError(
        `the connection to ${host} was closed unexpectedly (${c.code || raw})`,
        'reset',
        undefined,
        undefined,
        c.code,
      );
    case 'protocol':
      return new GatewayError(
        `the server at ${host} did not answer with valid HTTP (${raw})`,
        'protocol',
        undefined,
        undefined,
        c.code,
      );
    default:
      return new GatewayError(`request to ${host} failed: ${raw}`, 'unknown', undefined, undefined, c.code);
  }
}
