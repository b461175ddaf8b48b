// Add or edit a gateway cluster: the connection first, with "Test connection" and its answer right under it;
// launch parameters next; everything rarely needed under Advanced.
import { useEffect, useId, useRef, useState } from 'react';
import type { ClusterInput, ConnectionDiagnosis } from '../../../electron/host-api/models';
import { KNOWN_KERNEL_PARAMS } from '../../../electron/host-api/models';
import { useModel, useSel } from '../context';
import { toHostError } from '../host/errors';
import { emptyForm, toInput, type FormState } from './cluster-form-model';
import { AdvancedSettings } from './ClusterFormAdvanced';
import { DiagnosisPanel } from './DiagnosisPanel';
import { Field, PairsEditor } from './form-fields';

export function ClusterForm({ mode }: { mode: 'add' | 'edit' }) {
  const { actions, host } = useModel();
  const editingId = useSel('app', (s) => s.editingClusterId);
  const appSecretStorage = useSel('app', (s) => s.appInfo?.secretStorage ?? '');
  const [form, setForm] = useState<FormState>(emptyForm);
  const [loading, setLoading] = useState(mode === 'edit');
  const [secretStorage, setSecretStorage] = useState<string>('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [testing, setTesting] = useState(false);
  const [diag, setDiag] = useState<ConnectionDiagnosis | null>(null);
  const ids = useId();
  const diagRef = useRef<HTMLDivElement>(null);

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
    // A test result describes the settings it was made with; once they change it is stale.
    if (k !== 'name' && k !== 'launchParams' && k !== 'envAllowlist') setDiag(null);
  };

  // The verdict on the fields is the main process's (the one validator the CLI and the store use too): the
  // form shows the field errors the host sends back.
  const showErrors = (fieldErrors: Record<string, string>, message: string) => {
    setErrors(fieldErrors);
    setFormError(message);
    requestAnimationFrame(() =>
      document.querySelector<HTMLElement>('.field-error input, .field-error select')?.focus(),
    );
  };

  const check = (): ClusterInput => {
    setFormError(null);
    return toInput(form);
  };

  const save = async () => {
    const input = check();
    setSaving(true);
    try {
      if (mode === 'edit' && editingId) await actions.editCluster(editingId, input);
      else await actions.addCluster(input);
      actions.go('clusters');
    } catch (err) {
      const he = toHostError(err);
      if (he.fieldErrors) showErrors(he.fieldErrors, 'Some fields need attention; nothing was saved.');
      else showErrors({}, `Not saved: ${he.message}`);
    } finally {
      setSaving(false);
    }
  };

  const test = async () => {
    const input = check();
    setTesting(true);
    setDiag(null);
    try {
      setDiag(
        await actions.testCluster(mode === 'edit' && editingId ? { input, baseId: editingId } : { input }),
      );
      requestAnimationFrame(() => diagRef.current?.scrollIntoView({ block: 'nearest' }));
    } catch (err) {
      const he = toHostError(err);
      if (he.fieldErrors) showErrors(he.fieldErrors, 'Fix the highlighted fields, then test again.');
      else setFormError(he.message);
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
          <p className="muted">Type: remote gateway</p>
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
          <Field
            id="cf-user"
            label="KERNEL_USERNAME"
            error={errors.kernelUsername}
            hint="Your user name on the gateway (e.g. your university account); it wins over the one a Jupyter client sends. Empty: the client's, else your user name on this computer."
          >
            {(a) => (
              <input
                {...a}
                value={f.kernelUsername}
                onChange={(e) => set('kernelUsername', e.target.value)}
              />
            )}
          </Field>
          <div className="test-row">
            <button type="button" className="secondary" onClick={() => void test()} disabled={testing}>
              {testing ? 'Testing…' : 'Test connection'}
            </button>
            <span className="muted">Checks the URL and token without saving anything.</span>
          </div>
          <div ref={diagRef} aria-live="polite">
            {diag && <DiagnosisPanel diagnosis={diag} />}
          </div>
        </fieldset>

        <AdvancedSettings f={f} set={set} errors={errors} />

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

        <div className="form-actions">
          <button type="submit" disabled={saving}>
            {saving ? 'Saving…' : 'Save'}
          </button>
          <button type="button" className="secondary" onClick={() => actions.go('clusters')}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}
