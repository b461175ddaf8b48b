// Add or edit a cluster of any kind, drawn from the kind's fields (the host API's listClusterKinds): the
// connection first, with "Test connection" and its answer right under it for kinds reached over a network;
// launch settings next; everything rarely needed under Advanced. A kind may draw a section itself
// (kind-sections.tsx). Whether the values are good is the main process's verdict (the one validator the CLI
// and the store use): the form shows the field errors it sends back.
import { useEffect, useRef, useState } from 'react';
import type {
  ClusterInput,
  ClusterKindInfo,
  ClusterTestTarget,
  ConnectionDiagnosis,
  HostKeyInfo,
} from '../../../electron/host-api/models';
import { useModel, useSel } from '../context';
import { toHostError } from '../host/errors';
import { formFor, formOf, toInput, type FormState } from './cluster-form-model';
import { DiagnosisPanel } from './DiagnosisPanel';
import { Field } from './form-fields';
import { KindFields } from './kind-fields';
import { KIND_SECTIONS } from './kind-sections';

type Section = 'connection' | 'advanced' | 'launch';

export function ClusterForm({ mode }: { mode: 'add' | 'edit' }) {
  const { actions, host } = useModel();
  const editingId = useSel('app', (s) => s.editingClusterId);
  const appSecretStorage = useSel('app', (s) => s.appInfo?.secretStorage ?? '');
  const [kinds, setKinds] = useState<ClusterKindInfo[]>([]);
  const [form, setForm] = useState<FormState | null>(null);
  const [secretStorage, setSecretStorage] = useState<string>('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [testing, setTesting] = useState(false);
  const [diag, setDiag] = useState<ConnectionDiagnosis | null>(null);
  const diagRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    let alive = true;
    const load = async () => {
      const all = await host.listClusterKinds();
      if (!alive) return;
      setKinds(all);
      if (mode === 'edit' && editingId) {
        const c = await host.getCluster(editingId);
        const kind = all.find((k) => k.kind === c.kind);
        if (!alive) return;
        if (!kind) throw new Error(`This app does not know the cluster type "${c.kind}".`);
        setSecretStorage(c.secretStorage);
        setForm(formOf(kind, c));
      } else {
        const first = all.find((k) => k.addableFromForm);
        if (!first) throw new Error('No cluster type can be added here.');
        setForm(formFor(first));
      }
    };
    load().catch((err: unknown) => alive && setFormError(toHostError(err).message));
    return () => {
      alive = false;
    };
  }, [mode, editingId, host]);

  const kind = form ? kinds.find((k) => k.kind === form.kind) : undefined;

  const change = (next: FormState, field: string) => {
    setForm(next);
    // A test result describes the settings it was made with; once they change it is stale.
    const f = kind?.fields.find((x) => x.key === field);
    if (field !== 'name' && f?.section !== 'launch') setDiag(null);
  };

  const pickKind = (k: ClusterKindInfo) => {
    if (!form) return;
    setForm({ ...formFor(k), name: form.name });
    setErrors({});
    setDiag(null);
  };

  const showErrors = (fieldErrors: Record<string, string>, message: string) => {
    setErrors(fieldErrors);
    setFormError(message);
    requestAnimationFrame(() =>
      document.querySelector<HTMLElement>('.field-error input, .field-error select')?.focus(),
    );
  };

  const input = (): ClusterInput | null => {
    if (!form || !kind) return null;
    setFormError(null);
    return toInput(kind, form);
  };

  const save = async () => {
    const i = input();
    if (!i) return;
    setSaving(true);
    try {
      if (mode === 'edit' && editingId) await actions.editCluster(editingId, i);
      else await actions.addCluster(i);
      actions.go('clusters');
    } catch (err) {
      const he = toHostError(err);
      if (he.fieldErrors) showErrors(he.fieldErrors, 'Some fields need attention; nothing was saved.');
      else showErrors({}, `Not saved: ${he.message}`);
    } finally {
      setSaving(false);
    }
  };

  const target = (i: ClusterInput): ClusterTestTarget =>
    mode === 'edit' && editingId ? { input: i, baseId: editingId } : { input: i };

  const test = async () => {
    const i = input();
    if (!i) return;
    setTesting(true);
    setDiag(null);
    try {
      setDiag(await actions.testCluster(target(i)));
      setErrors({});
      requestAnimationFrame(() => diagRef.current?.scrollIntoView({ block: 'nearest' }));
    } catch (err) {
      const he = toHostError(err);
      if (he.fieldErrors) showErrors(he.fieldErrors, 'Fix the highlighted fields, then test again.');
      else setFormError(he.message);
    } finally {
      setTesting(false);
    }
  };

  // "Trust this host": the same settings the test used, then the test again (now past the host key).
  const trust = async (k: HostKeyInfo) => {
    const i = input();
    if (!i) return;
    await actions.acceptHostKey({ target: target(i), hostKey: k });
    await test();
  };

  if (!form || !kind)
    return formError ? (
      <div className="banner banner-error" role="alert" id="form-error">
        {formError}
      </div>
    ) : (
      <p className="muted">{mode === 'edit' ? 'Loading the cluster…' : 'Loading…'}</p>
    );

  const addable = kinds.filter((k) => k.addableFromForm);
  const sectionOf = (s: Section) => {
    const fields = kind.fields.filter((f) => f.section === s);
    const custom = kind.customSections[s];
    const Custom = custom ? KIND_SECTIONS[custom] : undefined;
    const props = {
      fields,
      f: form,
      onChange: change,
      errors,
      secretStorage: secretStorage || appSecretStorage,
    };
    if (!fields.length) return null;
    if (Custom) return <Custom {...props} />;
    if (s === 'advanced')
      return (
        <details className="advanced">
          <summary>Advanced</summary>
          <fieldset>
            <KindFields {...props} />
          </fieldset>
        </details>
      );
    if (s === 'launch')
      // Defaults for every kernel of the cluster (resources, launch settings): their own titled group.
      return (
        <fieldset>
          <legend>Kernel defaults</legend>
          <KindFields {...props} />
        </fieldset>
      );
    return <KindFields {...props} />;
  };

  return (
    <section aria-labelledby="form-title" className="cluster-form" data-kind={kind.kind}>
      <h1 id="form-title">{mode === 'add' ? 'Add a cluster' : `Edit ${form.name || 'cluster'}`}</h1>
      <p className="lead">{kind.intro}</p>
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
            {(a) => (
              <input
                {...a}
                value={form.name}
                onChange={(e) => change({ ...form, name: e.target.value }, 'name')}
                autoFocus
              />
            )}
          </Field>
          {mode === 'add' && addable.length > 1 ? (
            <fieldset className="kind-picker">
              <legend>Type</legend>
              {addable.map((k) => (
                <label className="check" key={k.kind}>
                  <input
                    type="radio"
                    name="cf-kind"
                    value={k.kind}
                    checked={k.kind === kind.kind}
                    onChange={() => pickKind(k)}
                  />{' '}
                  {k.label}
                </label>
              ))}
              {errors.kind && (
                <div className="field-message" role="alert">
                  {errors.kind}
                </div>
              )}
            </fieldset>
          ) : (
            <p className="muted">Type: {kind.label.toLowerCase()}</p>
          )}
          {sectionOf('connection')}
          {kind.remote && (
            <>
              <div className="test-row">
                <button type="button" className="secondary" onClick={() => void test()} disabled={testing}>
                  {testing ? 'Testing…' : 'Test connection'}
                </button>
                <span className="muted">Connects as a kernel start would, without saving anything.</span>
              </div>
              <div ref={diagRef} aria-live="polite">
                {diag && <DiagnosisPanel diagnosis={diag} onTrust={trust} />}
              </div>
            </>
          )}
        </fieldset>

        {sectionOf('advanced')}
        {sectionOf('launch')}

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
