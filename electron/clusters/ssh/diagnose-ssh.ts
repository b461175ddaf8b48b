// "Test connection" for an SSH cluster: log in to each host as a kernel start would (same user, key, agent,
// jump host, known_hosts), then ask the remote Python for ipykernel. The first host that fails decides.
import type { SecretLookup } from '../../secrets/secret-store';
import type { Diagnosis } from '../diagnose';
import type { SshClusterConfig } from '../kinds/ssh/config';
import { openSsh } from '../../../provisioners/ssh/ssh-connection';
import { HostKeyChangedError, HostKeyUnknownError, SshError } from '../../../provisioners/ssh/ssh-errors';
import { shellQuote } from '../../../provisioners/remote/launcher-protocol';
import { sshTargetFor, type SshTargetOptions } from './ssh-target';

const PROBE =
  'import sys\ntry:\n import ipykernel\n print("GD-OK", sys.version.split()[0], ipykernel.__version__)\n' +
  'except ImportError as e:\n print("GD-NO-IPYKERNEL", sys.version.split()[0], e)\n';

/** The structured key of a host-key failure, for the app's "Trust this host?" and the CLI's prompt. */
function hostKeyOf(e: SshError): Pick<Diagnosis, 'hostKey'> {
  if (e instanceof HostKeyUnknownError) {
    const keyType = e.keyLine.split(' ')[1] ?? '';
    return {
      hostKey: { host: e.host, port: e.port, fingerprint: e.fingerprint, keyType, status: 'unknown' },
    };
  }
  if (e instanceof HostKeyChangedError)
    return {
      hostKey: { host: e.host, port: e.port, fingerprint: e.actual, status: 'changed', known: e.expected },
    };
  return {};
}

export async function diagnoseSsh(
  cfg: SshClusterConfig,
  secrets: SecretLookup,
  opts: SshTargetOptions & { timeoutMs?: number } = {},
): Promise<Diagnosis> {
  const t0 = Date.now();
  const seen: string[] = [];
  for (const alias of cfg.hosts) {
    const target = { ...sshTargetFor(cfg, alias, secrets, opts), readyTimeoutMs: opts.timeoutMs ?? 10_000 };
    const url = `ssh://${target.user}@${target.host}:${target.port ?? 22}`;
    const fail = (d: Omit<Diagnosis, 'ok' | 'severity' | 'url' | 'elapsedMs'>): Diagnosis => ({
      ok: false,
      severity: 'error',
      url,
      elapsedMs: Date.now() - t0,
      ...d,
    });
    let conn;
    try {
      conn = await openSsh(target);
    } catch (err) {
      const e = err instanceof SshError ? err : new SshError('closed', String(err), 'Try again.');
      const code = e.code === 'closed' || e.code === 'exec' ? 'network' : e.code;
      return fail({
        code,
        title: `Cannot log in to ${alias}`,
        detail: e.message + (e instanceof HostKeyUnknownError ? `\nKey line: ${e.keyLine}` : ''),
        hint: e.hint,
        ...hostKeyOf(e),
      });
    }
    try {
      const res = await conn.exec(`${shellQuote([cfg.python])} -c ${shellQuote([PROBE])}`, {
        timeoutMs: 15_000,
      });
      const out = res.stdout.trim();
      if (out.startsWith('GD-OK')) {
        const [, py, ipk] = out.split(/\s+/);
        seen.push(`${alias}: Python ${py}, ipykernel ${ipk}`);
        continue;
      }
      if (out.startsWith('GD-NO-IPYKERNEL'))
        return fail({
          code: 'no-ipykernel',
          title: `${cfg.python} on ${alias} has no ipykernel`,
          detail: out.replace(/^GD-NO-IPYKERNEL\s*/, 'Python '),
          hint: `Install it on ${alias}: ${cfg.python} -m pip install --user ipykernel (or set "Remote Python" to one that has it).`,
        });
      return fail({
        code: 'no-python',
        title: `"${cfg.python}" does not run on ${alias}`,
        detail: (res.stderr || res.stdout).trim().slice(0, 500) || `exit code ${String(res.code)}`,
        hint: `Set "Remote Python" to the full path of a Python 3.8+ on ${alias} (try: ssh ${alias} which python3).`,
      });
    } finally {
      conn.close();
    }
  }
  return {
    ok: true,
    severity: 'ok',
    code: 'ok',
    title: `OK: ${cfg.hosts.length === 1 ? cfg.hosts[0] : `all ${cfg.hosts.length} hosts`} can run kernels`,
    detail: seen.join('\n'),
    hint: '',
    url: `ssh://${cfg.hosts[0]}`,
    elapsedMs: Date.now() - t0,
  };
}
