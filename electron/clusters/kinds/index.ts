// The one list of cluster kinds. Adding a kind: a folder next to these two with its descriptor
// (see DEVELOPING.md, "Adding a cluster kind"), and one line below.
import { ClusterKindRegistry } from './registry';
import { dockerKind } from './docker';
import { gatewayKind } from './gateway';
import { localKind } from './local';
import { sshKind } from './ssh';
import { swarmKind } from './swarm';

export const clusterKinds = new ClusterKindRegistry([localKind, gatewayKind, sshKind, dockerKind, swarmKind]);

export { ClusterKindRegistry } from './registry';
export type { ClusterKindDescriptor, FieldProblem, KeptDetails } from './types';
