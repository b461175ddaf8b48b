import { useEffect, useId, useState, type ReactNode } from 'react';
import type { ClusterInput, ConnectionDiagnosis } from '../../../electron/host-api/models';
import { KNOWN_KERNEL_PARAMS, validateClusterInput } from '../../../electron/host-api/models';
import { useModel, useSel } from '../context';
import { toHostError } from '../host/errors';
import { emptyForm, toInput, type FormState, type Pair } from './cluster-form-model';
import { DiagnosisPanel } from './DiagnosisPanel';

function Field(props: {
  id: string;
  label: string;
  error?: string;
  hint?: ReactNode;
  children: (aria: { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) => ReactNode;
}) {
  const describedBy = [props.error ? `${props.id}-error` : '', props.hint ? `${props.id}-hint` : '']
    .filter(Boolean)
    .join(' ');
  return (
    <div className={`field ${props.error ? 'field-error' : ''}`}>
      <label htmlFor={props.id}>{props.label}</label>
      {props.children({
        id: props.id,
        'aria-invalid': Boolean(props.error),
        'aria-describedby': describedBy || undefined,
      })}
      {props.hint && (
        <div className="hint" id={`${props.id}-hint`}>
          {props.hint}
        </div>
      )}
      {props.error && (
        <div className="field-message" id={`${props.id}-error`} role="alert">
          {props.error}
        </div>
      )}
    </div>
  );
}

function PairsEditor(props: {
  legend: string;
  pairs: Pair[];
  onChange: (p: Pair[]) => void;
  keyLabel: string;
  valueLabel: string;
  error?: string;
  listId?: string;
  addLabel: string;
  hint?: string;
}) {
  const base = useId();
  return (
    <fieldset className="pairs">
      <legend>{props.legend}</legend>
      {props.hint && <p className="hint">{props.hint}</p>}
      {props.pairs.map((p, i) => (
        <div className="pair" key={i}>
          <label className="sr-only" htmlFor={`${base}-k${i}`}>
            {props.keyLabel} {i + 1}
          </label>
          <input
            id={`${base}-k${i}`}
            placeholder={props.keyLabel}
            list={props.listId}
            value={p.key}
            onChange={(e) =>
              props.onChange(props.pairs.map((x, j) => (j === i ? { ...x, key: e.target.value } : x)))
            }
          />
          <label className="sr-only" htmlFor={`${base}-v${i}`}>
            {props.valueLabel} {i + 1}
          </label>
          <input
            id={`${base}-v${i}`}
            placeholder={props.valueLabel}
            value={p.value}
            onChange={(e) =>
              props.onChange(props.pairs.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)))
            }
          />
          <button
            type="button"
            className="secondary small"
            aria-label={`Remove ${p.key || 'row'}`}
            onClick={() => props.onChange(props.pairs.filter((_, j) => j !== i))}
          >
            Remove
          </button>
        </div>
      ))}
      <button
        type="button"
        className="secondary small"
        onClick={() => props.onChange([...props.pairs, { key: '', value: '' }])}
      >
        {props.addLabel}
      </button>
      {props.error && (
        <div className="field-message" role="alert">
          {props.error}
        </div>
      )}
    </fieldset>
  );
}

export function ClusterForm({ mode }: { mode: 'add' | 'edit' }) {
  const { actions, host } = useModel();
  const editingId = useSel('app', (s) => s.editingClusterId);
  const appSecretStorage = useSel('app', (s) => s.appInfo?.secretStorage ?? '');
  const [form, setForm] = useState<FormState>(emptyForm);
  const [loading, setLoading] = useState(mode === 'edit');
  const [secretStorage, setSecretStorage] = useState<string>('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [touched, setTouched] = useState(false);
  const [saving, setSaving] = useState(false);
  const [testing, setTesting] = useState(false);
  const [diag, setDiag] = useState<ConnectionDiagnosis | null>(null);
  const ids = useId();

  useEffect(() => {
    if (mode !== 'edit' || !editingId) return;
    let alive = true;
    host
      .getCluster(editingId)
      .then((c) => {
        if (!alive) return;
        setSecretStorage(c.secretStorage);
        const g = c.gateway;
        if (g)
          setForm({
            ...emptyForm(),
            name: c.name,
            url: g.url,
            hasAuthToken: g.hasAuthToken,
            authHeaderName: g.authHeaderName,
            authScheme: g.authScheme,
            httpUser: g.httpUser,
            hasHttpPassword: g.hasHttpPassword,
            headers: Object.entries(g.extraHeaders).map(([key, value]) => ({ key, value })),
            validateCert: g.validateCert,
            caFile: g.caFile,
            clientCertFile: g.clientCertFile,
            clientKeyFile: g.clientKeyFile,
            kernelUsername: g.kernelUsername,
            connectTimeoutSec: String(g.connectTimeoutSec),
            launchTimeoutSec: String(g.launchTimeoutSec),
            requestTimeoutSec: String(g.requestTimeoutSec),
            launchParams: Object.entries(g.launchParams).map(([key, value]) => ({ key, value })),
            envAllowlist: g.envAllowlist.join(', '),
          });
        else setForm({ ...emptyForm(), name: c.name });
      })
      .catch((err: unknown) => setFormError(toHostError(err).message))
      .finally(() => alive && setLoading(false));
    return () => {
      alive = false;
    };
  }, [mode, editingId, host]);

  const set = <K extends keyof FormState>(k: K, v: FormState[K]) => {
    const next = { ...form, [k]: v };
    setForm(next);
    if (touched) setErrors(validateClusterInput(toInput(next)));
  };

  const check = (): ClusterInput | null => {
    setTouched(true);
    const input = toInput(form);
    const e = validateClusterInput(input);
    setErrors(e);
    if (Object.keys(e).length) {
      setFormError('Some fields need attention; nothing was saved.');
      const first = document.querySelector<HTMLElement>('.field-error input, .field-error select');
      first?.focus();
      return null;
    }
    setFormError(null);
    return input;
  };

  const save = async () => {
    const input = check();
    if (!input) return;
    setSaving(true);
    try {
      if (mode === 'edit' && editingId) await actions.editCluster(editingId, input);
      else await actions.addCluster(input);
      actions.go('clusters');
    } catch (err) {
      const he = toHostError(err);
      setErrors(he.fieldErrors ?? {});
      setFormError(`Not saved: ${he.message}`);
    } finally {
      setSaving(false);
    }
  };

  const test = async () => {
    const input = check();
    if (!input) return;
    setTesting(true);
    setDiag(null);
    try {
      setDiag(
        await actions.testCluster(mode === 'edit' && editingId ? { input, baseId: editingId } : { input }),
      );
    } catch (err) {
      const he = toHostError(err);
      if (he.fieldErrors) setErrors(he.fieldErrors);
      setFormError(he.message);
    } finally {
      setTesting(false);
    }
  };

  if (loading) return <p className="muted">Loading the cluster…</p>;
  const f = form;
  const knownList = `${ids}-known`;
  return (
    <section aria-labelledby="form-title" className="cluster-form">
      <h1 id="form-title">{mode === 'add' ? 'Add a cluster' : `Edit ${f.name || 'cluster'}`}</h1>
      <p className="lead">
        A remote gateway (Jupyter Enterprise Gateway, Kernel Gateway, or a Jupyter server) runs your kernels
        on its machines. Ask its administrator for the URL and a token.
      </p>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        {formError && (
          <div className="banner banner-error" role="alert" id="form-error">
            {formError}
          </div>
        )}
        <fieldset>
          <legend>Connection</legend>
          <Field
            id="cf-name"
            label="Name"
            error={errors.name}
            hint="How the app calls it, e.g. University gateway"
          >
            {(a) => <input {...a} value={f.name} onChange={(e) => set('name', e.target.value)} autoFocus />}
          </Field>
          <Field id="cf-type" label="Type" error={errors.kind}>
            {(a) => (
              <select {...a} value="gateway" disabled>
                <option value="gateway">Remote gateway</option>
              </select>
            )}
          </Field>
          <Field
            id="cf-url"
            label="Gateway URL"
            error={errors.url}
            hint="e.g. https://gateway.example.edu:8888 (with the base path, if any)"
          >
            {(a) => (
              <input
                {...a}
                type="url"
                inputMode="url"
                value={f.url}
                onChange={(e) => set('url', e.target.value)}
                placeholder="https://"
              />
            )}
          </Field>
          <Field
            id="cf-token"
            label="Token"
            error={errors.authToken}
            hint={
              f.hasAuthToken
                ? `A token is saved${secretStorage ? ` (${secretStorage})` : ''}. Leave empty to keep it.`
                : `Kept out of the settings file: ${appSecretStorage || 'in the OS keychain where there is one'}.`
            }
          >
            {(a) => (
              <input
                {...a}
                type="password"
                autoComplete="off"
                value={f.authToken}
                onChange={(e) => set('authToken', e.target.value)}
              />
            )}
          </Field>
          {f.hasAuthToken && (
            <label className="check">
              <input
                type="checkbox"
                checked={f.clearToken}
                onChange={(e) => set('clearToken', e.target.checked)}
              />{' '}
              Remove the saved token
            </label>
          )}
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
              {(a) => (
                <input {...a} value={f.authScheme} onChange={(e) => set('authScheme', e.target.value)} />
              )}
            </Field>
          </div>
          <Field
            id="cf-user"
            label="KERNEL_USERNAME"
            error={errors.kernelUsername}
            hint="Your user name on the gateway; empty means your user name on this computer."
          >
            {(a) => (
              <input
                {...a}
                value={f.kernelUsername}
                onChange={(e) => set('kernelUsername', e.target.value)}
              />
            )}
          </Field>
        </fieldset>

        <details className="advanced">
          <summary>Advanced: login, headers, TLS, timeouts</summary>
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
                  <input
                    {...a}
                    value={f.clientKeyFile}
                    onChange={(e) => set('clientKeyFile', e.target.value)}
                  />
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
              <Field id="cf-tr" label="Request" error={errors.requestTimeoutSec} hint="At least launch + 10">
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

        <PairsEditor
          legend="Launch parameters"
          hint="KERNEL_* variables sent with every kernel start (image, CPUs, memory…). Pick a known one or type your own."
          pairs={f.launchParams}
          onChange={(p) => set('launchParams', p)}
          keyLabel="Parameter"
          valueLabel="Value"
          error={errors.launchParams}
          listId={knownList}
          addLabel="Add launch parameter"
        />
        <datalist id={knownList}>
          {KNOWN_KERNEL_PARAMS.map((k) => (
            <option key={k.key} value={k.key}>
              {k.hint}
            </option>
          ))}
        </datalist>
        <Field
          id="cf-env"
          label="Also forward these environment variables"
          error={errors.envAllowlist}
          hint="Names separated by commas, e.g. SPARK_OPTS, MY_PROJECT"
        >
          {(a) => (
            <input {...a} value={f.envAllowlist} onChange={(e) => set('envAllowlist', e.target.value)} />
          )}
        </Field>

        {diag && <DiagnosisPanel diagnosis={diag} />}
        <div className="form-actions">
          <button type="submit" disabled={saving}>
            {saving ? 'Saving…' : 'Save'}
          </button>
          <button type="button" className="secondary" onClick={() => void test()} disabled={testing}>
            {testing ? 'Testing…' : 'Test connection'}
          </button>
          <button type="button" className="secondary" onClick={() => actions.go('clusters')}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}
