// Public API of the provisioner library.
export type * from './types';
export {
  jupyterDataPaths,
  discoverKernelSpecs,
  findKernelSpec,
  loadKernelSpec,
  validateKernelSpecFile,
  substituteEnv,
  KERNEL_NAME_RE,
  type DiscoverOptions,
  type DiscoveryResult,
} from './kernelspec/discovery';
export { allocatePorts, allocateKernelPorts, releasePorts, type KernelPorts } from './ports';
export {
  LocalProvisioner,
  LOCAL_PROVISIONER_NAME,
  OutputTail,
  resolveProgram,
  runtimeDir,
  sweepStaleRuntimeFiles,
  linuxGroupMembers,
  processAlive,
  type LocalProvisionerOptions,
} from './local/local-provisioner';
export {
  WireCodec,
  DELIMITER,
  PROTOCOL_VERSION,
  makeMessage,
  makeHeader,
  parseHeader,
  tryParseHeader,
  parseContent,
  isoDateMicro,
  type MessageHeader,
  type DecodedMessage,
  type RejectReason,
  type WireCodecOptions,
} from './zmq/wire';
export {
  KernelConnection,
  ClientChannels,
  zmqUrl,
  type KernelConnectionOptions,
  type MessageHandler,
} from './zmq/kernel-connection';
export { KernelMonitor, DEFAULT_MONITOR_OPTIONS, describeExit, type MonitorOptions } from './zmq/heartbeat';
export {
  KernelManager,
  startKernelWith,
  routingIdentity,
  type StartKernelOptions,
  type KernelManagerOptions,
  type ReattachOptions,
  type AutoRestartOptions,
} from './kernel-manager';
export { startKernel, reattachKernel } from './start';
export {
  ProvisionerRegistry,
  ProvisionerUnavailableError,
  provisionerNameOf,
  DEFAULT_PROVISIONER_NAME,
  type ProvisionerFactory,
  type ProvisionerCreateOptions,
  type UnavailableProvisioner,
} from './registry';
export { createLocalProvisionerRegistry, defaultProvisionerRegistry } from './default-registry';
export { GATEWAY_PROVISIONERS, GATEWAY_PROVISIONER_NAMES } from './gateway-provisioners';
export { localProvisionerFactory } from './local/factory';
export {
  ConnectionPool,
  createProvisionerContext,
  type ProvisionerContext,
  type PoolLease,
  type ResponseListener,
} from './context';
export { LINUX_SIGNALS, DARWIN_SIGNALS, thisHostSignals, signalName } from './signals';
export { abortError } from './abort';
