// Form sections a cluster kind draws with its own component, where generic fields cannot serve. A kind's
// descriptor names the component (electron/clusters/kinds/<kind>/index.ts: customSections); this is the
// list of the components there are.
import type { ComponentType } from 'react';
import { AdvancedSettings } from './ClusterFormAdvanced';
import { DockerEnvironments } from './DockerEnvironments';
import { SshEnvironments } from './SshEnvironments';
import type { FieldsProps } from './kind-fields';

export const KIND_SECTIONS: Record<string, ComponentType<FieldsProps>> = {
  'gateway-advanced': AdvancedSettings,
  'ssh-environments': SshEnvironments,
  'docker-environments': DockerEnvironments,
};
