// The docker and swarm kinds' 'launch' section of the cluster form (their descriptors name it:
// customSections.launch = 'docker-environments'): the "Kernel defaults" fields (CPUs, memory, GPUs, volumes)
// as generic fields, then the kernel environments besides the cluster's image, each with add, edit and remove
// (the list is EnvironmentList's; the editor of one environment is here).
import type { SettingItem } from '../../../electron/host-api/models';
import {
  EnvEditorFrame,
  EnvironmentList,
  ENV_FIELD,
  envInputs,
  str,
  type EnvEditorProps,
} from './EnvironmentList';
import { Field } from './form-fields';
import { KindFields, type FieldsProps } from './kind-fields';

function summary(e: SettingItem, clusterImage: string): string {
  const parts = [str(e.image) || `${clusterImage || 'the cluster image'} (the cluster's)`];
  if (str(e.cpus)) parts.push(`${str(e.cpus)} CPUs`);
  if (str(e.memory)) parts.push(`memory ${str(e.memory)}`);
  if (str(e.gpus)) parts.push(`GPUs ${str(e.gpus)}`);
  return parts.join(' · ');
}

export function DockerEnvironments(props: FieldsProps) {
  const { f, onChange, errors } = props;
  const defaults = props.fields.filter((x) => x.key !== ENV_FIELD);
  return (
    <>
      {defaults.length > 0 && (
        <fieldset>
          <legend>Kernel defaults</legend>
          <KindFields {...props} fields={defaults} />
        </fieldset>
      )}
      <EnvironmentList
        f={f}
        onChange={onChange}
        errors={errors}
        testId="docker-environments"
        summary={(e) => summary(e, str(f.text.image))}
        hint={
          <>
            The cluster&apos;s image ({str(f.text.image) || 'the default'}) is always there as
            &quot;python3&quot;. Add environments for other images or Pythons, with their own CPUs, memory,
            GPUs, volumes, user or variables. Empty settings take the cluster&apos;s. To import a{' '}
            <code>jupyter docker-spec</code> kernelspec, use <code>npm run cluster -- env import</code>.
          </>
        }
        editor={(p) => <DockerEnvEditor {...p} />}
      />
    </>
  );
}

function DockerEnvEditor(props: EnvEditorProps) {
  const { e, patch } = props;
  const { id, err, text } = envInputs(props);
  const volumes = Array.isArray(e.volumes) ? (e.volumes as string[]) : [];
  return (
    <EnvEditorFrame env={props}>
      <div className="row">
        {text('name', 'Name', 'How Jupyter calls it: lowercase, e.g. torch-gpu', 'torch-gpu')}
        {text('displayName', 'Display name', 'What the launcher shows', 'PyTorch (GPU)')}
      </div>
      <div className="row">
        {text('image', 'Image', "Empty: the cluster's", 'pytorch/pytorch:latest')}
        {text('python', 'Python in the image', "Empty: the cluster's", '/opt/conda/bin/python')}
      </div>
      <div className="row">
        {text('cpus', 'CPUs', "Empty: the cluster's", '2')}
        {text('memory', 'Memory', "Empty: the cluster's (e.g. 512m, 2g)", '2g')}
        {text('gpus', 'GPUs', 'A count or all', '1')}
      </div>
      <Field
        id={id('volumes')}
        label="Volumes, one per line"
        error={err('volumes')}
        hint="SOURCE:TARGET[:ro], added to the cluster's"
      >
        {(a) => (
          <textarea
            {...a}
            rows={2}
            value={volumes.join('\n')}
            onChange={(ev) => patch({ volumes: ev.target.value ? ev.target.value.split('\n') : undefined })}
          />
        )}
      </Field>
      <div className="row">
        {text('uid', 'User id', "Empty: the image's", '1000')}
        {text('gid', 'Group id', "Empty: the image's", '100')}
        {text('workingDir', 'Working dir', 'An absolute path in the container', '/home/jovyan')}
        {text('launchTimeoutSec', 'Launch timeout (seconds)', "Empty: the cluster's", '120')}
      </div>
    </EnvEditorFrame>
  );
}
