// The provisioner names Gateway Provisioners registers (`jupyter_client.kernel_provisioners` entry points),
// and what each needs. Kernelspecs written by its `jupyter k8s-spec|docker-spec|yarn-spec|ssh-spec install`
// name them. Until a backend for one exists here, a spec naming it is refused with this description; the
// backend, once built, registers its factory under the same name (ProvisionerRegistry.register), so those
// kernelspecs then work unchanged.
import type { UnavailableProvisioner } from './registry';

const ORIGIN = 'Gateway Provisioners';

export const GATEWAY_PROVISIONERS: readonly UnavailableProvisioner[] = Object.freeze([
  {
    name: 'kubernetes-provisioner',
    origin: ORIGIN,
    needs: 'a Kubernetes cluster (it runs the kernel in a pod)',
    setUp: 'Add a Kubernetes cluster when that backend exists',
  },
  {
    name: 'spark-operator-provisioner',
    origin: ORIGIN,
    needs: 'a Kubernetes cluster with the Spark operator (it creates a SparkApplication)',
    setUp: 'Add a Kubernetes cluster with the Spark operator when that backend exists',
  },
  {
    name: 'docker-provisioner',
    origin: ORIGIN,
    needs: 'a Docker daemon (it runs the kernel in a container)',
    setUp: 'Add a Docker cluster when that backend exists',
  },
  {
    name: 'docker-swarm-provisioner',
    origin: ORIGIN,
    needs: 'a Docker Swarm (it runs the kernel as a swarm service)',
    setUp: 'Add a Docker Swarm cluster when that backend exists',
  },
  {
    name: 'yarn-provisioner',
    origin: ORIGIN,
    needs: 'a Hadoop YARN cluster (it submits the kernel as a YARN application)',
    setUp: 'Add a YARN cluster when that backend exists',
  },
  {
    name: 'distributed-provisioner',
    origin: ORIGIN,
    needs: 'SSH access to the remote hosts of its config (it starts the kernel there over SSH)',
    setUp: 'Add an SSH cluster when that backend exists',
  },
]);

export const GATEWAY_PROVISIONER_NAMES: readonly string[] = GATEWAY_PROVISIONERS.map((p) => p.name);
