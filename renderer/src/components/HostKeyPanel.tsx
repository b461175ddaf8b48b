// What a Test connection that met an SSH host key known_hosts does not vouch for asks of the user. An unknown
// key: its fingerprint, to compare with the one the host's administrator gives, and "Trust this host" (the
// main process fetches the key again and writes it only if it is still this fingerprint). A changed key: both
// fingerprints and what to do; nothing here can trust it.
import { useState } from 'react';
import {
  hostKeyHostName as hostName,
  hostKeyTypeName as keyTypeName,
  type HostKeyInfo,
} from '../../../electron/host-api/models';
import { errorText } from '../host/errors';

export function HostKeyPanel({
  hostKey: k,
  onTrust,
}: {
  hostKey: HostKeyInfo;
  /** Trust the key, then test again; absent where nothing can be trusted. */
  onTrust?: (k: HostKeyInfo) => Promise<void>;
}) {
  const [state, setState] = useState<'ask' | 'trusting' | 'declined'>('ask');
  const [error, setError] = useState<string | null>(null);

  if (k.status === 'changed')
    return (
      <section
        className="hostkey hostkey-changed"
        role="alert"
        aria-labelledby="hostkey-title"
        data-status="changed"
        data-kind="host-key-changed"
      >
        <h3 id="hostkey-title">The host key of {hostName(k)} has changed</h3>
        <dl className="facts">
          <dt>known_hosts expects</dt>
          <dd>
            {(k.known ?? []).map((f) => (
              <code className="fingerprint" key={f}>
                {f}
              </code>
            ))}
          </dd>
          <dt>The host presented</dt>
          <dd>
            <code className="fingerprint">{k.fingerprint}</code>
          </dd>
        </dl>
        <p>
          Someone may be intercepting the connection, or the host was reinstalled. The app will not connect.
          Ask the host&apos;s administrator whether its key was replaced; only then remove the old line from
          known_hosts (<code>ssh-keygen -R &quot;{hostName(k)}&quot;</code>) and test again.
        </p>
      </section>
    );

  const trust = async () => {
    if (!onTrust) return;
    setState('trusting');
    setError(null);
    try {
      await onTrust(k);
    } catch (err) {
      setError(errorText(err));
      setState('ask');
    }
  };

  return (
    <section
      className="hostkey hostkey-unknown"
      role="alertdialog"
      aria-modal="false"
      aria-labelledby="hostkey-title"
      aria-describedby="hostkey-question"
      data-status="unknown"
      data-kind="host-key-unknown"
    >
      <h3 id="hostkey-title">Trust this host?</h3>
      <p id="hostkey-question">
        The authenticity of host <code>{hostName(k)}</code> can&apos;t be established. Its{' '}
        {keyTypeName(k.keyType)}
        key fingerprint is
      </p>
      <code className="fingerprint" data-fingerprint={k.fingerprint}>
        {k.fingerprint}
      </code>
      <p className="hint">
        Compare it with the fingerprint the host&apos;s administrator gives you (on the host:{' '}
        <code>
          ssh-keygen -lf /etc/ssh/ssh_host_{(k.keyType ?? 'ssh-ed25519').replace(/^ssh-|-.*$/g, '')}_key.pub
        </code>
        ). Trust it only if they match: it is added to known_hosts and checked on every connection.
      </p>
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      {state === 'declined' ? (
        <p className="muted">Not trusted: kernels cannot start on this host until its key is trusted.</p>
      ) : (
        onTrust && (
          <div className="actions">
            <button type="button" onClick={() => void trust()} disabled={state === 'trusting'}>
              {state === 'trusting' ? 'Trusting…' : 'Trust this host'}
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => setState('declined')}
              disabled={state === 'trusting'}
            >
              Don&apos;t trust
            </button>
          </div>
        )
      )}
    </section>
  );
}
