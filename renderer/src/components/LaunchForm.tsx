// The launch form: the KERNEL_* parameters a cluster's kind declares for an environment (with their
// defaults), rows for any other KERNEL_* variable, and Start. The host checks the values (syntax and what the
// cluster can tell) and refuses invalid ones before anything is sent; each message shows at its field.
import { onCluster } from '../stores/clusters';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type {
  ClusterSummary,
  KernelEnvironment,
  LaunchForm as LaunchFormData,
  LaunchParameterInfo,
} from '../../../electron/host-api/contract';
import { useModel } from '../context';
import { errorText, toHostError } from '../host/errors';
import { Field } from './form-fields';

interface OtherRow {
  name: string;
  value: string;
}

const HINTS: Partial<Record<LaunchParameterInfo['kind'], string>> = {
  memory: 'An amount like 4Gi, 512Mi or 2G.',
  cpus: 'A number of CPUs, like 2 or 0.5.',
  gpus: 'A whole number of GPUs.',
  list: 'A JSON list.',
  path: 'An absolute path.',
  seconds: 'Seconds.',
};

function ParameterField(props: {
  p: LaunchParameterInfo;
  value: string;
  error?: string;
  onChange: (v: string) => void;
}) {
  const { p } = props;
  const id = `lf-${p.name}`;
  const hint = (
    <>
      {p.help}. {HINTS[p.kind] ?? ''} <code>{p.name}</code>
      {p.default ? ` · default ${p.default}` : ''}
    </>
  );
  return (
    <Field id={id} label={p.label} error={props.error} hint={hint}>
      {(aria) =>
        p.choices ? (
          <select {...aria} value={props.value} onChange={(e) => props.onChange(e.target.value)}>
            <option value="">(the cluster chooses)</option>
            {p.choices.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        ) : p.kind === 'list' ? (
          <textarea
            {...aria}
            rows={2}
            value={props.value}
            placeholder={`e.g. ${p.example}`}
            onChange={(e) => props.onChange(e.target.value)}
          />
        ) : (
          <input
            {...aria}
            value={props.value}
            placeholder={`e.g. ${p.example}`}
            spellCheck={false}
            autoComplete="off"
            onChange={(e) => props.onChange(e.target.value)}
          />
        )
      }
    </Field>
  );
}

export function LaunchPanel(props: {
  cluster: ClusterSummary;
  env: KernelEnvironment;
  /** Closed (cancelled or started): the panel is gone; the caller puts the focus back. */
  onClose: () => void;
}) {
  const { cluster, env } = props;
  const { actions } = useModel();
  const [form, setForm] = useState<LaunchFormData | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [values, setValues] = useState<Record<string, string>>({});
  const [others, setOthers] = useState<OtherRow[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [sizeName, setSizeName] = useState<string | null>(null);
  // Bumped when the host refused values: the first field with a message then takes the focus.
  const [refusals, setRefusals] = useState(0);
  const root = useRef<HTMLFormElement>(null);
  const headingId = `lf-title-${cluster.id}-${env.name}`;

  useEffect(() => {
    let live = true;
    actions.getLaunchForm(cluster.id, env.name).then(
      (f) => {
        if (!live) return;
        setForm(f);
        setValues(Object.fromEntries(f.parameters.map((p) => [p.name, p.default])));
      },
      (err: unknown) => live && setLoadError(errorText(err)),
    );
    return () => {
      live = false;
    };
  }, [actions, cluster.id, env.name]);

  useEffect(() => {
    if (refusals) root.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [refusals]);

  // Focus the first field once the form is there (keyboard users land in it).
  useEffect(() => {
    if (form) root.current?.querySelector<HTMLElement>('input, select, textarea')?.focus();
  }, [form]);

  const set = (name: string, v: string): void => {
    setValues((s) => ({ ...s, [name]: v }));
    setErrors(({ [name]: _, ...rest }) => rest);
  };

  /** The values the form would send, or null when a free row needs fixing first (shown at the row). */
  const collect = (): Record<string, string> | null => {
    if (!form) return null;
    const sent: Record<string, string> = {};
    const local: Record<string, string> = {};
    for (const [k, v] of Object.entries(values)) if (v.trim()) sent[k] = v.trim();
    for (const r of others) {
      const name = r.name.trim();
      if (!name && !r.value) continue;
      if (!name) local[`other:${others.indexOf(r)}`] = 'Give the variable a name (KERNEL_...).';
      else if (name in sent || form.parameters.some((p) => p.name === name && values[name]?.trim()))
        local[name] = `${name} is already set above.`;
      else sent[name] = r.value;
    }
    setErrors(local);
    setFormError(null);
    if (Object.keys(local).length) {
      setRefusals((n) => n + 1);
      return null;
    }
    return sent;
  };

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (busy || !form) return;
    const sent = collect();
    if (!sent) return;
    setBusy(true);
    try {
      await actions.startWithParameters(cluster.id, env.name, sent);
      props.onClose();
    } catch (err) {
      const he = toHostError(err);
      if (he.fieldErrors) setErrors(he.fieldErrors);
      setFormError(
        he.fieldErrors
          ? 'Some values need attention; nothing was sent.'
          : `Could not start: ${errorText(err)}`,
      );
      setRefusals((n) => n + 1);
    } finally {
      setBusy(false);
    }
  };

  // "Save as size…": the values under a name, listed as a kernelspec of their own (the host checks them).
  const saveSize = async (): Promise<void> => {
    const sent = collect();
    if (!sent || busy || sizeName === null) return;
    if (!sizeName.trim()) {
      setErrors((s) => ({ ...s, 'size-name': 'Give the size a name, e.g. GPU, 16 GB.' }));
      return;
    }
    setBusy(true);
    try {
      await actions.saveSize(cluster.id, env.size?.environment ?? env.name, sizeName.trim(), sent);
      props.onClose();
    } catch (err) {
      const he = toHostError(err);
      if (he.fieldErrors) setErrors(he.fieldErrors);
      setFormError(he.fieldErrors ? 'Some values need attention; nothing was saved.' : errorText(err));
      setRefusals((n) => n + 1);
    } finally {
      setBusy(false);
    }
  };

  const params = form?.parameters ?? [];
  const field = (p: LaunchParameterInfo) => (
    <ParameterField
      key={p.name}
      p={p}
      value={values[p.name] ?? ''}
      error={errors[p.name]}
      onChange={(v) => set(p.name, v)}
    />
  );
  const more = params.filter((p) => p.more);
  const moreHasError = more.some((p) => errors[p.name]);

  return (
    <form
      ref={root}
      className="launch-form"
      aria-labelledby={headingId}
      noValidate
      onSubmit={(e) => void submit(e)}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          props.onClose();
        }
      }}
    >
      <h4 id={headingId}>Launch parameters for {onCluster(env.displayName, cluster.name)}</h4>
      {loadError && (
        <p className="error-text" role="alert">
          Could not read the launch parameters: {loadError}
        </p>
      )}
      {!form && !loadError && <p className="muted">Reading the launch parameters…</p>}
      {form && (
        <>
          <p className="hint">{form.note}</p>
          <div className="launch-fields">{params.filter((p) => !p.more).map(field)}</div>
          {more.length > 0 && (
            <details open={moreHasError || undefined}>
              <summary>More parameters ({more.length})</summary>
              <div className="launch-fields">{more.map(field)}</div>
            </details>
          )}
          <fieldset className="pairs launch-others">
            <legend>Any other KERNEL_* variable</legend>
            {others.map((r, i) => {
              const err = errors[r.name.trim()] ?? errors[`other:${i}`];
              return (
                <div className={`pair ${err ? 'field-error' : ''}`} key={i}>
                  <label className="sr-only" htmlFor={`lf-other-name-${i}`}>
                    Variable {i + 1}
                  </label>
                  <input
                    id={`lf-other-name-${i}`}
                    value={r.name}
                    placeholder="KERNEL_..."
                    spellCheck={false}
                    aria-invalid={Boolean(err)}
                    aria-describedby={err ? `lf-other-error-${i}` : undefined}
                    onChange={(e) =>
                      setOthers(others.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)))
                    }
                  />
                  <label className="sr-only" htmlFor={`lf-other-value-${i}`}>
                    Value {i + 1}
                  </label>
                  <input
                    id={`lf-other-value-${i}`}
                    value={r.value}
                    spellCheck={false}
                    onChange={(e) =>
                      setOthers(others.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)))
                    }
                  />
                  <button
                    type="button"
                    className="secondary small"
                    aria-label={`Remove variable ${i + 1}`}
                    onClick={() => setOthers(others.filter((_, j) => j !== i))}
                  >
                    Remove
                  </button>
                  {err && (
                    <div className="field-message" id={`lf-other-error-${i}`} role="alert">
                      {err}
                    </div>
                  )}
                </div>
              );
            })}
            <button
              type="button"
              className="secondary small"
              onClick={() => setOthers([...others, { name: 'KERNEL_', value: '' }])}
            >
              Add a variable
            </button>
          </fieldset>
        </>
      )}
      {formError && (
        <p className="error-text" role="alert" data-testid="launch-form-error">
          {formError}
        </p>
      )}
      <div className="actions">
        <button type="submit" disabled={!form} aria-disabled={busy}>
          {busy ? 'Starting…' : 'Start with these parameters'}
        </button>
        <button
          type="button"
          className="secondary"
          disabled={!form}
          aria-expanded={sizeName !== null}
          onClick={() => setSizeName(sizeName === null ? '' : null)}
        >
          Save as size…
        </button>
        <button type="button" className="secondary" onClick={props.onClose}>
          Cancel
        </button>
      </div>
      {sizeName !== null && (
        <div className={`launch-size ${errors['size-name'] ? 'field-error' : ''}`}>
          <label htmlFor="lf-size-name">Size name</label>
          <input
            id="lf-size-name"
            value={sizeName}
            placeholder="GPU, 16 GB"
            aria-invalid={Boolean(errors['size-name'])}
            onChange={(e) => {
              setSizeName(e.target.value);
              setErrors(({ 'size-name': _, ...rest }) => rest);
            }}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                void saveSize();
              }
            }}
          />
          <button type="button" aria-disabled={busy} onClick={() => void saveSize()}>
            Save size
          </button>
          <span className="hint">
            Listed as a kernel of its own (JupyterLab&apos;s launcher shows it); starting it uses these
            values.
          </span>
          {errors['size-name'] && (
            <div className="field-message" role="alert">
              {errors['size-name']}
            </div>
          )}
        </div>
      )}
    </form>
  );
}
