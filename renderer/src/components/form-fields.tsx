// The cluster form's building blocks: a labelled field with its hint and inline error, and an editor of
// key/value rows (headers, launch parameters).
import { useId, type ReactNode } from 'react';
import type { Pair } from './cluster-form-model';

export function Field(props: {
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

export function PairsEditor(props: {
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
