// The Advanced part of the cluster form: how the token is sent, HTTP login, extra headers, TLS, timeouts.
import type { FormState } from './cluster-form-model';
import { Field, PairsEditor } from './form-fields';

export function AdvancedSettings({
  f,
  set,
  errors,
}: {
  f: FormState;
  set: <K extends keyof FormState>(k: K, v: FormState[K]) => void;
  errors: Record<string, string>;
}) {
  return (
    <details className="advanced">
      <summary>Advanced: token header, login, headers, TLS, timeouts</summary>
      <fieldset>
        <legend>How the token is sent</legend>
        <div className="row">
          <Field id="cf-hname" label="Token header" error={errors.authHeaderName}>
            {(a) => (
              <input
                {...a}
                value={f.authHeaderName}
                onChange={(e) => set('authHeaderName', e.target.value)}
              />
            )}
          </Field>
          <Field id="cf-scheme" label="Scheme" error={errors.authScheme} hint="token, or Bearer">
            {(a) => <input {...a} value={f.authScheme} onChange={(e) => set('authScheme', e.target.value)} />}
          </Field>
        </div>
      </fieldset>
      <fieldset>
        <legend>HTTP login (optional)</legend>
        <div className="row">
          <Field id="cf-huser" label="User" error={errors.httpUser}>
            {(a) => <input {...a} value={f.httpUser} onChange={(e) => set('httpUser', e.target.value)} />}
          </Field>
          <Field
            id="cf-hpass"
            label="Password"
            error={errors.httpPassword}
            hint={f.hasHttpPassword ? 'Saved; leave empty to keep it.' : undefined}
          >
            {(a) => (
              <input
                {...a}
                type="password"
                autoComplete="off"
                value={f.httpPassword}
                onChange={(e) => set('httpPassword', e.target.value)}
              />
            )}
          </Field>
        </div>
      </fieldset>
      <PairsEditor
        legend="Extra headers"
        pairs={f.headers}
        onChange={(p) => set('headers', p)}
        keyLabel="Header"
        valueLabel="Value"
        error={errors.extraHeaders}
        addLabel="Add header"
      />
      <fieldset>
        <legend>TLS</legend>
        <label className="check">
          <input
            type="checkbox"
            checked={f.validateCert}
            onChange={(e) => set('validateCert', e.target.checked)}
          />{' '}
          Check the server certificate (turn off only for a test server you trust)
        </label>
        <Field
          id="cf-ca"
          label="CA bundle file (PEM)"
          error={errors.caFile}
          hint="For a university CA or a self-signed server"
        >
          {(a) => (
            <input
              {...a}
              value={f.caFile}
              onChange={(e) => set('caFile', e.target.value)}
              placeholder="/path/to/ca.pem"
            />
          )}
        </Field>
        <div className="row">
          <Field id="cf-cert" label="Client certificate" error={errors.clientCertFile}>
            {(a) => (
              <input
                {...a}
                value={f.clientCertFile}
                onChange={(e) => set('clientCertFile', e.target.value)}
              />
            )}
          </Field>
          <Field id="cf-key" label="Client key" error={errors.clientKeyFile}>
            {(a) => (
              <input {...a} value={f.clientKeyFile} onChange={(e) => set('clientKeyFile', e.target.value)} />
            )}
          </Field>
        </div>
      </fieldset>
      <fieldset>
        <legend>Timeouts (seconds)</legend>
        <div className="row">
          <Field id="cf-tc" label="Connect" error={errors.connectTimeoutSec}>
            {(a) => (
              <input
                {...a}
                inputMode="numeric"
                value={f.connectTimeoutSec}
                onChange={(e) => set('connectTimeoutSec', e.target.value)}
              />
            )}
          </Field>
          <Field id="cf-tl" label="Kernel launch" error={errors.launchTimeoutSec}>
            {(a) => (
              <input
                {...a}
                inputMode="numeric"
                value={f.launchTimeoutSec}
                onChange={(e) => set('launchTimeoutSec', e.target.value)}
              />
            )}
          </Field>
          <Field id="cf-tr" label="Request" error={errors.requestTimeoutSec} hint="At least launch + 2">
            {(a) => (
              <input
                {...a}
                inputMode="numeric"
                value={f.requestTimeoutSec}
                onChange={(e) => set('requestTimeoutSec', e.target.value)}
              />
            )}
          </Field>
        </div>
      </fieldset>
    </details>
  );
}
