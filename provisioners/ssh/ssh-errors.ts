// SSH failures as one error type with a code the UI can branch on and a hint saying what the user should do.
// ssh2 and net report failures as plain Errors with errno codes or English messages; toSshError maps them.

export type SshErrorCode =
  | 'dns'
  | 'refused'
  | 'timeout'
  | 'unreachable'
  | 'host-key-unknown'
  | 'host-key-changed'
  | 'auth'
  | 'closed'
  | 'exec'
  | 'config';

export class SshError extends Error {
  constructor(
    readonly code: SshErrorCode,
    message: string,
    /** What the user should do about it. */
    readonly hint: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SshError';
  }
}

/** Where a connection went to, for messages: "alice@gpu1:22". */
export interface SshErrorContext {
  host: string;
  port?: number;
  user?: string;
  /** Set when the failing hop is a jump host. */
  via?: string;
}

function where(c: SshErrorContext): string {
  const hop = `${c.user ? `${c.user}@` : ''}${c.host}:${c.port ?? 22}`;
  return c.via ? `${hop} (via jump host ${c.via})` : hop;
}

export class HostKeyUnknownError extends SshError {
  constructor(
    readonly host: string,
    readonly port: number,
    /** "SHA256:..." as OpenSSH prints it. */
    readonly fingerprint: string,
    /** The known_hosts line to append once the user confirms the fingerprint. */
    readonly keyLine: string,
  ) {
    super(
      'host-key-unknown',
      `The host key of ${host}:${port} is not in known_hosts (fingerprint ${fingerprint}).`,
      `Check this fingerprint with the administrator of ${host} (ssh-keygen -lf on the host's key) and accept it, or run "ssh -p ${port} ${host}" once.`,
    );
    this.name = 'HostKeyUnknownError';
  }
}

export class HostKeyChangedError extends SshError {
  constructor(
    readonly host: string,
    readonly port: number,
    /** Fingerprints known_hosts has for this host. */
    readonly expected: string[],
    /** Fingerprint the host presented. */
    readonly actual: string,
  ) {
    super(
      'host-key-changed',
      `The host key of ${host}:${port} has CHANGED: known_hosts expects ${expected.join(' or ')} but the host presented ${actual}. Someone may be intercepting the connection.`,
      `Ask the administrator of ${host} whether its key was replaced; only then remove the old entry (ssh-keygen -R "${port === 22 ? host : `[${host}]:${port}`}") and connect again.`,
    );
    this.name = 'HostKeyChangedError';
  }
}

/** Turn whatever ssh2/net threw into an SshError with a code and a hint (SshErrors pass through). */
export function toSshError(err: unknown, context: SshErrorContext): SshError {
  if (err instanceof SshError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const level = (e as { level?: string }).level ?? '';
  const w = where(context);
  const make = (c: SshErrorCode, msg: string, hint: string): SshError =>
    new SshError(c, `${msg}: ${e.message}`, hint, { cause: e });
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NODATA')
    return make(
      'dns',
      `Cannot resolve host name ${context.host}`,
      'Check the host name (typos, VPN, /etc/hosts or ~/.ssh/config HostName).',
    );
  if (code === 'ECONNREFUSED')
    return make(
      'refused',
      `Connection to ${w} refused`,
      'Check the port and that an SSH server runs on the host.',
    );
  if (code === 'ETIMEDOUT' || /timed out/i.test(e.message))
    return make(
      'timeout',
      `Timed out connecting to ${w}`,
      'Check that the host is up and reachable (VPN, firewall), or raise the connection timeout.',
    );
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EHOSTDOWN')
    return make(
      'unreachable',
      `${w} is unreachable`,
      'Check your network connection, VPN, or the jump host setting.',
    );
  if (level === 'client-authentication' || /authentication methods failed/i.test(e.message))
    return make(
      'auth',
      `Authentication as ${context.user ?? '(no user)'} on ${w} failed`,
      'Check the user name and key: is the public key in ~/.ssh/authorized_keys on the host, the agent running (ssh-add -l), the passphrase right?',
    );
  if (/passphrase|encrypted private key|Cannot parse privateKey|Unsupported key format/i.test(e.message))
    return make(
      'config',
      `The private key for ${w} cannot be used`,
      'Check the key file and its passphrase.',
    );
  if (code === 'ECONNRESET' || code === 'EPIPE' || /not connected|no response|closed/i.test(e.message))
    return make(
      'closed',
      `Connection to ${w} closed`,
      'Connect again; if it keeps dropping, check the network.',
    );
  return make('closed', `SSH connection to ${w} failed`, 'Check the host settings and try again.');
}
