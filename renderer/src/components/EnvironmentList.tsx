// The list part of a kind's "Kernel environments" form section (SshEnvironments, DockerEnvironments): the
// environments kept in the 'environments' items field, each with Edit/Done and Remove, an Add button, and the
// open one's editor (drawn by the kind). Nothing is checked here: Save sends them with the form, and the main
// process's verdict comes back per property (`environments.<index>.<property>`) and is shown at that input.
import { useState, type ReactNode } from 'react';
import type { SettingItem } from '../../../electron/host-api/models';
import type { Pair } from './cluster-form-model';
import { Field, PairsEditor } from './form-fields';
import type { FieldsProps } from './kind-fields';

export const ENV_FIELD = 'environments';
export const str = (v: unknown): string =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
const pairsOf = (v: unknown): Pair[] =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
    ? Object.entries(v as Record<string, string>).map(([key, value]) => ({ key, value }))
    : [];

/** What a kind's editor of one environment is given. */
export interface EnvEditorProps {
  i: number;
  label: string;
  e: SettingItem;
  errors: Record<string, string>;
  patch: (p: SettingItem) => void;
  /** Rows of the environment's variables (a record cannot hold a row still being typed). */
  pairs: Pair[];
  setPairs: (p: Pair[]) => void;
}

/** Input id and error of an environment's property, and a text input bound to it. */
export function envInputs({ i, e, errors, patch }: EnvEditorProps) {
  const id = (k: string) => `cf-env-${i}-${k}`;
  const err = (k: string) => errors[`${ENV_FIELD}.${i}.${k}`];
  const text = (k: string, label: string, hint?: string, placeholder?: string) => (
    <Field id={id(k)} label={label} error={err(k)} hint={hint}>
      {(a) => (
        <input
          {...a}
          placeholder={placeholder}
          value={str(e[k])}
          onChange={(ev) => patch({ [k]: ev.target.value })}
        />
      )}
    </Field>
  );
  return { id, err, text };
}

/** One environment's editor: the kind's inputs (children), then its variables. */
export function EnvEditorFrame(props: { env: EnvEditorProps; children: ReactNode }) {
  const { env } = props;
  return (
    <div className="ssh-env-editor" role="group" aria-label={`Settings of ${env.label}`}>
      {props.children}
      <PairsEditor
        legend="Environment variables"
        pairs={env.pairs}
        onChange={env.setPairs}
        keyLabel="Variable"
        valueLabel="Value"
        error={env.errors[`${ENV_FIELD}.${env.i}.env`]}
        addLabel="Add a variable"
      />
    </div>
  );
}

export function EnvironmentList(
  props: Pick<FieldsProps, 'f' | 'onChange' | 'errors'> & {
    testId: string;
    hint: ReactNode;
    summary: (e: SettingItem) => string;
    editor: (p: EnvEditorProps) => ReactNode;
  },
) {
  const { f, onChange, errors } = props;
  const items = f.items[ENV_FIELD] ?? [];
  const [open, setOpen] = useState<number | null>(null);
  const [pairs, setPairs] = useState<Pair[]>([]);
  const errorsOf = (i: number) => Object.entries(errors).filter(([k]) => k.startsWith(`${ENV_FIELD}.${i}.`));

  const setItems = (next: SettingItem[]) =>
    onChange({ ...f, items: { ...f.items, [ENV_FIELD]: next } }, ENV_FIELD);
  const patch = (i: number, p: SettingItem) => {
    const next = { ...items[i], ...p };
    for (const [k, v] of Object.entries(p)) if (v === undefined) delete next[k];
    setItems(items.map((x, j) => (j === i ? next : x)));
  };
  const edit = (i: number | null) => {
    setOpen(i);
    setPairs(i === null ? [] : pairsOf(items[i]?.env));
  };

  return (
    <fieldset className="ssh-envs" data-testid={props.testId}>
      <legend>Kernel environments</legend>
      <p className="hint">{props.hint}</p>
      {items.length > 0 && (
        <ul className="ssh-env-list" aria-label="Kernel environments besides the cluster's Python">
          {items.map((e, i) => {
            const label = str(e.displayName) || str(e.name) || `Environment ${i + 1}`;
            const bad = errorsOf(i).length > 0;
            return (
              <li key={i} className={`ssh-env ${bad ? 'ssh-env-error' : ''}`} data-env-index={i}>
                <div className="ssh-env-head">
                  <div>
                    <strong>{label}</strong> <span className="muted">{str(e.name)}</span>
                    <div className="muted small">{props.summary(e)}</div>
                    {bad && open !== i && (
                      <div className="field-message" role="alert">
                        {errorsOf(i)[0]![1]}
                      </div>
                    )}
                  </div>
                  <div className="ssh-env-actions">
                    <button
                      type="button"
                      className="secondary small"
                      aria-expanded={open === i}
                      aria-label={`${open === i ? 'Close' : 'Edit'} ${label}`}
                      onClick={() => edit(open === i ? null : i)}
                    >
                      {open === i ? 'Done' : 'Edit'}
                    </button>
                    <button
                      type="button"
                      className="secondary small"
                      aria-label={`Remove ${label}`}
                      onClick={() => {
                        setItems(items.filter((_, j) => j !== i));
                        edit(null);
                      }}
                    >
                      Remove
                    </button>
                  </div>
                </div>
                {(open === i || (bad && open === null)) &&
                  props.editor({
                    i,
                    label,
                    e,
                    errors,
                    patch: (p) => patch(i, p),
                    pairs: open === i ? pairs : pairsOf(e.env),
                    setPairs: (p) => {
                      setPairs(p);
                      patch(i, { env: Object.fromEntries(p.map((x) => [x.key.trim(), x.value])) });
                    },
                  })}
              </li>
            );
          })}
        </ul>
      )}
      <button
        type="button"
        className="secondary small"
        onClick={() => {
          setItems([...items, { name: '', displayName: '', language: 'python' }]);
          edit(items.length);
        }}
      >
        Add an environment
      </button>
      {errors[ENV_FIELD] && (
        <div className="field-message" role="alert">
          {errors[ENV_FIELD]}
        </div>
      )}
    </fieldset>
  );
}
