// A cluster kind's settings fields drawn from their metadata (the host API's listClusterKinds): text, URL,
// path, seconds and secret inputs, checkboxes, comma lists and key/value rows. The form is this, per section,
// plus the sections a kind draws itself (kind-sections.tsx).
import { useId } from 'react';
import type { KindFieldInfo } from '../../../electron/host-api/models';
import type { FormState } from './cluster-form-model';
import { Field, PairsEditor } from './form-fields';

export interface FieldsProps {
  fields: readonly KindFieldInfo[];
  f: FormState;
  onChange: (next: FormState, field: string) => void;
  errors: Record<string, string>;
  /** Where secrets are kept, in words ("in the OS keychain"). */
  secretStorage: string;
}

export const inputId = (field: KindFieldInfo): string => field.form?.id ?? `cf-${field.key}`;

export function KindFields({ fields, f, onChange, errors, secretStorage }: FieldsProps) {
  const base = useId();
  const text = (k: string, v: string) => onChange({ ...f, text: { ...f.text, [k]: v } }, k);
  return (
    <>
      {fields.map((field) => {
        const id = inputId(field);
        const help = field.form?.help ?? field.help;
        const error = errors[field.key];
        switch (field.type) {
          case 'boolean':
            return (
              <label className="check" key={field.key}>
                <input
                  id={id}
                  type="checkbox"
                  checked={f.checks[field.key] !== false}
                  onChange={(e) =>
                    onChange({ ...f, checks: { ...f.checks, [field.key]: e.target.checked } }, field.key)
                  }
                />{' '}
                {field.label}
              </label>
            );
          case 'map': {
            const listId = field.suggestions?.length ? `${base}-${field.key}-known` : undefined;
            return (
              <div key={field.key}>
                <PairsEditor
                  legend={field.label}
                  hint={help}
                  pairs={f.pairs[field.key] ?? []}
                  onChange={(p) => onChange({ ...f, pairs: { ...f.pairs, [field.key]: p } }, field.key)}
                  keyLabel={field.form?.keyLabel ?? 'Name'}
                  valueLabel={field.form?.valueLabel ?? 'Value'}
                  error={error}
                  listId={listId}
                  addLabel={field.form?.addLabel ?? `Add to ${field.label.toLowerCase()}`}
                />
                {listId && (
                  <datalist id={listId}>
                    {field.suggestions?.map((s) => (
                      <option key={s.value} value={s.value}>
                        {s.hint}
                      </option>
                    ))}
                  </datalist>
                )}
              </div>
            );
          }
          case 'secret': {
            const saved = f.saved[field.key];
            const hint = saved
              ? `A ${field.label.toLowerCase()} is saved${secretStorage ? ` (${secretStorage})` : ''}. Leave empty to keep it.`
              : `${help} ${secretStorage ? `Kept ${secretStorage}.` : ''}`.trim();
            return (
              <div key={field.key}>
                <Field id={id} label={field.label} error={error} hint={hint}>
                  {(a) => (
                    <input
                      {...a}
                      type="password"
                      autoComplete="off"
                      value={f.text[field.key] ?? ''}
                      onChange={(e) => text(field.key, e.target.value)}
                    />
                  )}
                </Field>
                {saved && (
                  <label className="check">
                    <input
                      type="checkbox"
                      checked={f.clear[field.key] === true}
                      onChange={(e) =>
                        onChange({ ...f, clear: { ...f.clear, [field.key]: e.target.checked } }, field.key)
                      }
                    />{' '}
                    Remove the saved {field.label.toLowerCase()}
                  </label>
                )}
              </div>
            );
          }
          default:
            return (
              <Field id={id} key={field.key} label={field.label} error={error} hint={help}>
                {(a) => (
                  <input
                    {...a}
                    type={field.type === 'url' ? 'url' : 'text'}
                    inputMode={
                      field.type === 'url' ? 'url' : field.type === 'seconds' ? 'numeric' : undefined
                    }
                    placeholder={field.form?.placeholder}
                    value={f.text[field.key] ?? ''}
                    onChange={(e) => text(field.key, e.target.value)}
                  />
                )}
              </Field>
            );
        }
      })}
    </>
  );
}
