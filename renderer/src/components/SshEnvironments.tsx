// The ssh kind's "Kernel environments" section of the cluster form (its descriptor names it:
// customSections.launch = 'ssh-environments'): the environments besides the cluster's Python, each with add,
// edit and remove. Nothing is checked here: Save sends them with the form, and the main process's verdict
// comes back per property (`environments.<index>.<property>`) and is shown at that input.
import { useState } from 'react';
import type { SettingItem } from '../../../electron/host-api/models';
import type { Pair } from './cluster-form-model';
import { Field, PairsEditor } from './form-fields';
import type { FieldsProps } from './kind-fields';

const FIELD = 'environments';
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const pairsOf = (v: unknown): Pair[] =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
    ? Object.entries(v as Record<string, string>).map(([key, value]) => ({ key, value }))
    : [];

function summary(e: SettingItem, clusterPython: string): string {
  const runs = Array.isArray(e.argv)
    ? e.argv.filter(Boolean).join(' ')
    : str(e.python) || `${clusterPython || 'python3'} (the cluster's)`;
  const hosts = Array.isArray(e.hosts) && e.hosts.length ? e.hosts.join(', ') : 'all hosts';
  return `${str(e.language) || 'python'} · ${runs} · ${hosts}`;
}

export function SshEnvironments({ f, onChange, errors }: FieldsProps) {
  const items = f.items[FIELD] ?? [];
  const [open, setOpen] = useState<number | null>(null);
  // Rows of the open environment's variables (a record cannot hold a row still being typed).
  const [pairs, setPairs] = useState<Pair[]>([]);
  const clusterHosts = (f.text.hosts ?? '').split(/[\s,]+/).filter(Boolean);
  const errorsOf = (i: number) => Object.entries(errors).filter(([k]) => k.startsWith(`${FIELD}.${i}.`));

  const setItems = (next: SettingItem[]) => onChange({ ...f, items: { ...f.items, [FIELD]: next } }, FIELD);
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
    <fieldset className="ssh-envs" data-testid="ssh-environments">
      <legend>Kernel environments</legend>
      <p className="hint">
        The cluster&apos;s Python ({str(f.text.python) || 'python3'}) is always there as &quot;python3&quot;.
        Add environments for other Pythons, other kernels (any command line that reads {'{connection_file}'}),
        a subset of the hosts, or a longer launch timeout. To import a Gateway Provisioners kernelspec, use{' '}
        <code>npm run cluster -- env import</code>.
      </p>
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
                    <div className="muted small">{summary(e, str(f.text.python))}</div>
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
                {(open === i || (bad && open === null)) && (
                  <EnvEditor
                    i={i}
                    label={label}
                    e={e}
                    hosts={clusterHosts}
                    errors={errors}
                    patch={(p) => patch(i, p)}
                    pairs={open === i ? pairs : pairsOf(e.env)}
                    setPairs={(p) => {
                      setPairs(p);
                      patch(i, { env: Object.fromEntries(p.map((x) => [x.key.trim(), x.value])) });
                    }}
                  />
                )}
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
      {errors[FIELD] && (
        <div className="field-message" role="alert">
          {errors[FIELD]}
        </div>
      )}
    </fieldset>
  );
}

function EnvEditor(props: {
  i: number;
  label: string;
  e: SettingItem;
  hosts: string[];
  errors: Record<string, string>;
  patch: (p: SettingItem) => void;
  pairs: Pair[];
  setPairs: (p: Pair[]) => void;
}) {
  const { i, e, hosts, errors, patch } = props;
  const id = (k: string) => `cf-env-${i}-${k}`;
  const err = (k: string) => errors[`${FIELD}.${i}.${k}`];
  const byArgv = Array.isArray(e.argv);
  const chosen = new Set(Array.isArray(e.hosts) ? e.hosts : []);
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
  return (
    <div className="ssh-env-editor" role="group" aria-label={`Settings of ${props.label}`}>
      <div className="row">
        {text('name', 'Name', 'How Jupyter calls it: lowercase, e.g. torch-gpu', 'torch-gpu')}
        {text('displayName', 'Display name', 'What the launcher shows', 'PyTorch (GPU)')}
        {text('language', 'Language', undefined, 'python')}
      </div>
      <fieldset>
        <legend>Runs</legend>
        <label className="check">
          <input
            type="radio"
            name={id('runs')}
            checked={!byArgv}
            onChange={() => patch({ argv: undefined })}
          />{' '}
          ipykernel of a remote Python
        </label>
        <label className="check">
          <input
            type="radio"
            name={id('runs')}
            checked={byArgv}
            onChange={() => patch({ argv: [], python: undefined })}
          />{' '}
          A command line (any kernel)
        </label>
        {byArgv ? (
          <Field
            id={id('argv')}
            label="Command line, one argument per line"
            error={err('argv')}
            hint="It must contain {connection_file}, e.g. /opt/r/bin/R, --slave, -e, IRkernel::main(), --args, {connection_file}"
          >
            {(a) => (
              <textarea
                {...a}
                rows={4}
                value={(e.argv as string[]).join('\n')}
                onChange={(ev) => patch({ argv: ev.target.value.split('\n') })}
              />
            )}
          </Field>
        ) : (
          text('python', 'Remote Python', "Empty: the cluster's Python", '/opt/conda/envs/torch/bin/python')
        )}
      </fieldset>
      <fieldset aria-describedby={err('hosts') ? id('hosts-error') : undefined}>
        <legend>Hosts (none ticked: all of the cluster&apos;s)</legend>
        {hosts.map((h) => (
          <label className="check" key={h}>
            <input
              type="checkbox"
              checked={chosen.has(h)}
              onChange={(ev) => {
                const next = ev.target.checked ? [...chosen, h] : [...chosen].filter((x) => x !== h);
                patch({ hosts: next.length ? next : undefined });
              }}
            />{' '}
            {h}
          </label>
        ))}
        {[...chosen]
          .filter((h) => !hosts.includes(h))
          .map((h) => (
            <p className="muted" key={h}>
              {h} (not among the cluster&apos;s hosts)
            </p>
          ))}
        {err('hosts') && (
          <div className="field-message" id={id('hosts-error')} role="alert">
            {err('hosts')}
          </div>
        )}
      </fieldset>
      <div className="row">
        {text('launchTimeoutSec', 'Launch timeout (seconds)', "Empty: the cluster's", '120')}
        {text('portRange', 'Remote port range', "Empty: the cluster's", '40000..40100')}
      </div>
      <PairsEditor
        legend="Environment variables"
        pairs={props.pairs}
        onChange={props.setPairs}
        keyLabel="Variable"
        valueLabel="Value"
        error={err('env')}
        addLabel="Add a variable"
      />
    </div>
  );
}
