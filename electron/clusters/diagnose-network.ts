// The diagnosis of a gateway that could not be reached: DNS, refused, timeout, unreachable, TLS (with the
// certificate that was rejected, fetched without validation to show what it was), a connection that broke.
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import net, { isIP } from 'node:net';
import type { GatewayClusterConfig } from './config';
import type { GatewayClient } from './gateway/client';
import { GatewayError } from './gateway/errors';
import type { CertificateInfo, Diagnosis, Done } from './diagnose';

function certName(o: Record<string, string | string[] | undefined> | undefined): string {
  if (!o) return '?';
  const parts: string[] = [];
  for (const k of ['CN', 'O', 'OU']) {
    const v = o[k];
    if (v) parts.push(`${k}=${Array.isArray(v) ? v.join('+') : v}`);
  }
  return parts.join(', ') || '?';
}

/** Fetch the server certificate without validating it (to show the student what was rejected). */
export function fetchCertificate(
  url: URL,
  opts: { caFile?: string; timeoutMs: number },
): Promise<{ cert: CertificateInfo; authorizationError: string | null } | null> {
  return new Promise((resolve) => {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || 443);
    let ca: (string | Buffer)[] | undefined;
    try {
      if (opts.caFile) ca = [...tls.rootCertificates, readFileSync(opts.caFile)];
    } catch {
      ca = undefined;
    }
    const sock = tls.connect({
      host,
      port,
      rejectUnauthorized: false,
      ...(isIP(host) ? {} : { servername: host }),
      ...(ca ? { ca } : {}),
    });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(null);
    }, opts.timeoutMs);
    sock.once('secureConnect', () => {
      clearTimeout(timer);
      const c = sock.getPeerCertificate();
      const authErr = sock.authorizationError ? String(sock.authorizationError) : null;
      sock.destroy();
      if (!c || !c.subject) {
        resolve(null);
        return;
      }
      const subject = certName(c.subject as unknown as Record<string, string>);
      const issuer = certName(c.issuer as unknown as Record<string, string>);
      resolve({
        cert: {
          subject,
          issuer,
          validFrom: c.valid_from,
          validTo: c.valid_to,
          fingerprint256: c.fingerprint256,
          selfSigned: subject === issuer,
        },
        authorizationError: authErr,
      });
    });
    sock.once('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}

/**
 * Whether an https URL's port really speaks plain http: some servers (Jupyter Server's Tornado among them)
 * never answer a TLS hello, so the request would only time out. A plain request that gets an HTTP status
 * line while no TLS handshake completes settles it in a moment. (A TLS server that also answers plain
 * requests, as nginx does with a 400, completes the handshake and is not taken for plain http.)
 */
export async function speaksPlainHttpOnly(url: URL, timeoutMs: number): Promise<boolean> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  const bounded = <T>(p: Promise<T>, ms: number, fallback: T): Promise<T> =>
    Promise.race([p, new Promise<T>((r) => setTimeout(() => r(fallback), ms).unref())]);
  const sockets: net.Socket[] = [];
  const handshake = new Promise<boolean>((resolve) => {
    const s = tls.connect({
      host,
      port,
      rejectUnauthorized: false,
      ...(isIP(host) ? {} : { servername: host }),
    });
    sockets.push(s);
    s.once('secureConnect', () => resolve(true));
    s.once('error', () => resolve(false));
  });
  const plain = new Promise<boolean>((resolve) => {
    const s = net.connect({ host, port }, () => s.write(`GET / HTTP/1.0\r\nHost: ${url.host}\r\n\r\n`));
    sockets.push(s);
    s.once('data', (d: Buffer) => resolve(d.subarray(0, 5).toString('latin1') === 'HTTP/'));
    s.once('error', () => resolve(false));
    s.once('close', () => resolve(false));
  });
  try {
    if (!(await bounded(plain, timeoutMs, false))) return false;
    return !(await bounded(handshake, 1500, false));
  } finally {
    for (const s of sockets) s.destroy();
  }
}

export function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

export async function networkDiagnosis(
  e: unknown,
  client: GatewayClient,
  config: GatewayClusterConfig,
  connectTimeoutMs: number,
  timeoutMs: number,
  done: Done,
): Promise<Diagnosis> {
  const host = client.baseUrl.host;
  const hostname = client.baseUrl.hostname;
  const err = e instanceof GatewayError ? e : new GatewayError(String(e), 'unknown');
  const base = { ok: false, severity: 'error' as const };
  switch (err.kind) {
    case 'dns':
      return done({
        ...base,
        code: 'dns',
        title: `The name "${hostname}" cannot be found (DNS)`,
        detail: `Looking up ${hostname} failed (${err.errno ?? 'ENOTFOUND'}).`,
        hint: 'Check the spelling of the host name. If the gateway is only reachable inside the university network, connect to the VPN first.',
      });
    case 'refused':
      return done({
        ...base,
        code: 'refused',
        title: `${host} refused the connection`,
        detail: `The computer ${hostname} answered, but nothing accepts connections on port ${client.baseUrl.port || (client.baseUrl.protocol === 'https:' ? 443 : 80)}.`,
        hint: 'Check the port number in the URL, and that the gateway is running (ask its admin).',
      });
    case 'timeout':
      return done({
        ...base,
        code: 'timeout',
        title: `No answer from ${host}`,
        detail: /connect/.test(err.message)
          ? `Could not open a connection within ${seconds(connectTimeoutMs)}.`
          : `The connection opened, but no answer came within ${seconds(timeoutMs)}.`,
        hint: 'A firewall may be blocking the port, or you may need the university VPN. Check the host and port, then try again.',
      });
    case 'unreachable':
      return done({
        ...base,
        code: 'unreachable',
        title: `${host} cannot be reached`,
        detail: err.message,
        hint: 'Check your network connection; if the gateway is inside the university network, connect to the VPN first.',
      });
    case 'tls': {
      const fetched =
        client.baseUrl.protocol === 'https:'
          ? await fetchCertificate(client.baseUrl, { caFile: config.tls.caFile, timeoutMs: connectTimeoutMs })
          : null;
      const reason = err.tlsReason ?? err.message;
      const cert = fetched?.cert;
      const certText = cert
        ? `The server's certificate (subject ${cert.subject}, issued by ${cert.issuer}, valid ${cert.validFrom} – ${cert.validTo}, SHA-256 ${cert.fingerprint256}) was rejected: ${reason}.`
        : `The secure connection was refused: ${reason}.`;
      let hint =
        'If your university gave you a CA certificate file, add it in the settings (CLI: --ca-file FILE). Turn certificate checks off (--insecure) only for a test server you control.';
      if (/hostname mismatch/.test(reason)) {
        hint = `Use the host name the certificate was made for (its subject: ${cert?.subject ?? '?'}) in the URL, or ask the admin for a certificate that covers "${hostname}".`;
      } else if (/expired|not yet valid/.test(reason)) {
        hint =
          "The gateway's certificate is out of date: tell the gateway admin. Check your computer's clock too.";
      } else if (/does not speak TLS/.test(reason)) {
        hint = 'Try the URL with http:// instead of https://.';
      }
      return done({
        ...base,
        code: 'tls',
        title: `TLS failure: ${reason}`,
        detail: certText,
        hint,
        certificate: cert,
      });
    }
    case 'reset':
    case 'protocol': {
      const httpsHint =
        client.baseUrl.protocol === 'http:'
          ? ' If the gateway uses TLS, the URL must start with https://.'
          : '';
      return done({
        ...base,
        code: 'network',
        title: `The connection to ${host} broke off`,
        detail: err.message,
        hint: `Check the URL and port.${httpsHint}`,
      });
    }
    default:
      return done({
        ...base,
        code: err.kind === 'bad-url' ? 'config' : 'network',
        title: `Could not talk to ${host}`,
        detail: err.message,
        hint: 'Check the URL and your network connection.',
      });
  }
}
