// The ssh kind's "Kernel environments" section of the cluster form (its descriptor names it:
// customSections.launch = 'ssh-environments'): the environments besides the cluster's Python, each with add,
// edit and remove (the list is EnvironmentList's; the editor of one environment is here).
import type { SettingItem } from '../../../electron/host-api/models';
import { EnvEditorFrame, EnvironmentList, envInputs, str, type EnvEditorProps } from './EnvironmentList';
import { Field } from './form-fields';
import type { FieldsProps } from './kind-fields';

function summary(e: SettingItem, clusterPython: string): string {
  const runs = Array.isArray(e.argv)
    ? e.argv.filter(Boolean).join(' ')
    : str(e.python) || `${clusterPython || 'python3'} (the cluster's)`;
  const hosts = Array.isArray(e.hosts) && e.hosts.length ? e.hosts.join(', ') : 'all hosts';
  return `${str(e.language) || 'python'} · ${runs} · ${hosts}`;
}

export function SshEnvironments({ f, onChange, errors }: FieldsProps) {
  const clusterHosts = (f.text.hosts ?? '').split(/[\s,]+/).filter(Boolean);
  return (
    <EnvironmentList
      f={f}
      onChange={onChange}
      errors={errors}
      testId="ssh-environments"
      summary={(e) => summary(e, str(f.text.python))}
      hint={
        <>
          The cluster&apos;s Python ({str(f.text.python) || 'python3'}) is always there as
          &quot;python3&quot;. Add environments for other Pythons, other kernels (any command line that reads{' '}
          {'{connection_file}'}), a subset of the hosts, or a longer launch timeout. To import a Gateway
          Provisioners kernelspec, use <code>npm run cluster -- env import</code>.
        </>
      }
      editor={(p) => <EnvEditor {...p} hosts={clusterHosts} />}
    />
  );
}

function EnvEditor(props: EnvEditorProps & { hosts: string[] }) {
  const { e, hosts, patch } = props;
  const { id, err, text } = envInputs(props);
  const byArgv = Array.isArray(e.argv);
  const chosen = new Set(Array.isArray(e.hosts) ? e.hosts : []);
  return (
    <EnvEditorFrame env={props}>
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
    </EnvEditorFrame>
  );
}
