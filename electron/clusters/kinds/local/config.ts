// The local kind's stored settings: the TypeScript type and the JSON schema ajv checks it with (bound by
// JSONSchemaType).
import type { JSONSchemaType } from 'ajv';
import type { StoredCluster } from '../../config-base';
import { cullingSchema, type CullingConfig } from '../culling';

export interface LocalClusterConfig extends StoredCluster {
  kind: 'local';
  /** Extra kernelspec directories searched besides the standard Jupyter data paths. */
  kernelspecDirs?: string[];
  /** Idle culling (off when absent: the default for "This computer"). */
  culling?: CullingConfig;
}

export const localSchema: JSONSchemaType<LocalClusterConfig> = {
  type: 'object',
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$' },
    name: { type: 'string', minLength: 1, maxLength: 100 },
    kind: { type: 'string', const: 'local' },
    enabled: { type: 'boolean', nullable: true },
    kernelspecDirs: { type: 'array', items: { type: 'string', minLength: 1 }, nullable: true },
    culling: { ...cullingSchema, nullable: true },
  },
  required: ['id', 'name', 'kind'],
  additionalProperties: false,
};
