// Data shapes that cross the host API (main process <-> renderer). Pure types and pure functions only:
// the renderer's tsconfig includes this file, so no Node or Electron imports here.

/**
 * Execution state of a kernel as the UI shows it. `disconnected`: a remote kernel we cannot reach right now;
 * `not-answering`: its process runs but misses heartbeats (paused, swapping); it is kept, not declared dead.
 */
export type KernelState =
  | 'starting'
  | 'idle'
  | 'busy'
  | 'restarting'
  | 'dead'
  | 'disconnected'
  | 'not-answering';

export const KERNEL_STATES: readonly KernelState[] = [
  'starting',
  'idle',
  'busy',
  'restarting',
  'dead',
  'disconnected',
  'not-answering',
];

/** A cluster kind's name as registered in electron/clusters/kinds/index.ts ('local', 'gateway', ...). */
export type ClusterKind = string;

/** One record of an `items` field (e.g. an SSH cluster's kernel environment). */
export interface SettingItem {
  [key: string]: string | number | boolean | string[] | Record<string, string> | undefined;
}

/** One value of a cluster kind's settings field. */
export type SettingValue = string | number | boolean | string[] | Record<string, string> | SettingItem[];
export type SettingsValues = Record<string, SettingValue | undefined>;

/** One settings field of a cluster kind: what the form shows and what `cluster add <kind>` takes. */
export interface KindFieldInfo {
  /** The key in the kind's settings values (and the form input a field error names). */
  key: string;
  label: string;
  help: string;
  /**
   * secret: never sent back, only whether one is saved; seconds: a number; list/map: repeatable; items: a list
   * of records a kind's own form section edits (no `cli` flag; errors name `<key>.<index>.<property>`).
   */
  type: 'text' | 'url' | 'secret' | 'boolean' | 'seconds' | 'list' | 'map' | 'path' | 'items';
  default?: SettingValue;
  required?: boolean;
  /** Where the form puts it (a kind may render a section itself). */
  section: 'connection' | 'advanced' | 'launch';
  suggestions?: { value: string; hint: string }[];
  /** The form's own words and ids where they differ from the CLI's (help: the CLI's --help text). */
  form?: {
    /** The input's id (stable for tests and labels); default cf-<key>. */
    id?: string;
    help?: string;
    placeholder?: string;
    /** Maps: the row editor's labels. */
    keyLabel?: string;
    valueLabel?: string;
    addLabel?: string;
  };
  cli?: {
    flag: string;
    arg?: string;
    /** Secrets: the flag names an environment variable that holds the value. */
    fromEnv?: boolean;
    /** Booleans: the flag turns the setting off (--insecure turns certificate checks off). */
    invert?: boolean;
    /** Maps: what separates key and value ("Name: value", KERNEL_X=V). */
    separator?: string;
  };
}

/** A cluster kind as the host API lists it. */
export interface ClusterKindInfo {
  kind: string;
  label: string;
  summary: string;
  addableFromForm: boolean;
  /** Reached over a network (health, Test connection); false for this computer. */
  remote: boolean;
  /** The form's opening sentence for this kind. */
  intro: string;
  /** Form sections the renderer draws with a kind's own component (section -> component name). */
  customSections: Partial<Record<KindFieldInfo['section'], string>>;
  fields: KindFieldInfo[];
}

export type HealthStatus = 'ok' | 'unreachable' | 'unknown' | 'checking';

export interface ClusterHealth {
  status: HealthStatus;
  /** A sentence a person can read ("Answered in 12 ms", "Connection refused"). */
  message: string;
  checkedAt: string | null;
}

/** One cluster in the list. */
export interface ClusterSummary {
  id: string;
  name: string;
  kind: ClusterKind;
  /** How the UI names the kind ("Remote gateway"). */
  kindLabel: string;
  /** Its kernels are reached over a network (so it can be unreachable). */
  remote: boolean;
  active: boolean;
  /** Built-in clusters ("This computer") cannot be removed or renamed. */
  builtIn: boolean;
  /** Gateway URL, or null for this computer. */
  url: string | null;
  health: ClusterHealth;
  kernelCount: number;
}

/** The non-secret settings of a gateway cluster: what the edit form shows and what it sends back alike. */
export interface GatewaySettingsCommon {
  url: string;
  authHeaderName: string;
  authScheme: string;
  httpUser: string;
  extraHeaders: Record<string, string>;
  validateCert: boolean;
  caFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  kernelUsername: string;
  connectTimeoutSec: number;
  requestTimeoutSec: number;
  launchTimeoutSec: number;
  launchParams: Record<string, string>;
  envAllowlist: string[];
}

/** Settings of a gateway cluster, as the edit form shows them. Secrets are never sent back: only whether set. */
export interface GatewaySettingsView extends GatewaySettingsCommon {
  hasAuthToken: boolean;
  hasHttpPassword: boolean;
}

export interface ClusterDetail extends ClusterSummary {
  /** The kind's settings values (keys: its fields); secret fields left out, see secretsSet. */
  settings: SettingsValues;
  /** Secret field -> whether a value is saved. */
  secretsSet: Record<string, boolean>;
  /** The gateway kind's settings in the shape the contract has always had (null for other kinds). */
  gateway: GatewaySettingsView | null;
  /** Where secrets are kept ("the OS keychain", "an owner-only file in the data folder"). */
  secretStorage: string;
}

/** Input of the add/edit form. Secret fields: undefined = keep, '' = clear, value = set. */
export interface GatewaySettingsInput extends GatewaySettingsCommon {
  authToken?: string;
  httpPassword?: string;
}

export interface ClusterInput {
  name: string;
  kind: ClusterKind;
  /** The kind's settings values (keys: its fields). Secret fields: undefined = keep, '' = clear, value = set. */
  settings?: SettingsValues;
  /** The gateway kind's settings, as the form has always sent them (same keys as its fields). */
  gateway?: GatewaySettingsInput;
}

export type DiagnosisKind =
  | 'ok'
  | 'invalid-url'
  | 'dns'
  | 'refused'
  | 'timeout'
  | 'tls'
  | 'unauthorized'
  | 'not-found'
  | 'forbidden'
  | 'server-error'
  | 'error';

/** The answer of "Test connection", in words a student understands. */
export interface ConnectionDiagnosis {
  ok: boolean;
  kind: DiagnosisKind | string;
  title: string;
  detail: string;
  hint: string | null;
  version: string | null;
  kernelspecCount: number | null;
  durationMs: number;
  /** With kind 'host-key-unknown' (the user may trust it) or 'host-key-changed' (refused). */
  hostKey?: HostKeyInfo;
}

/** A host's SSH key that known_hosts does not vouch for. */
export interface HostKeyInfo {
  host: string;
  port: number;
  /** "SHA256:…" the host presents now, as `ssh-keygen -l` prints it. */
  fingerprint: string;
  /** "ssh-ed25519", … when known. */
  keyType?: string;
  status: 'unknown' | 'changed';
  /** For a changed key: the fingerprints known_hosts has for this host. */
  known?: string[];
}

/** "[host]:port" as known_hosts and ssh write it (plain host on port 22). */
export const hostKeyHostName = (k: HostKeyInfo): string => (k.port === 22 ? k.host : `[${k.host}]:${k.port}`);

/** "ssh-ed25519" -> "ED25519 ", "ecdsa-sha2-nistp256" -> "ECDSA ": as ssh names the key in its question. */
export const hostKeyTypeName = (t: string | undefined): string =>
  t ? `${t.replace(/^ssh-|-sha2-.*$/g, '').toUpperCase()} ` : '';

/** Which cluster "Test connection" and "Trust this host" are about: a saved one, or unsaved form input. */
export type ClusterTestTarget = { id: string } | { input: ClusterInput; baseId?: string };

/** "Trust this host": the key the user saw, for the cluster's settings. */
export interface AcceptHostKeyRequest {
  target: ClusterTestTarget;
  hostKey: { host: string; port: number; fingerprint: string };
}

/** A kernel environment (kernelspec) of a cluster. */
export interface KernelEnvironment {
  clusterId: string;
  /** Name on its cluster (e.g. `python3`). */
  name: string;
  displayName: string;
  language: string;
  isDefault: boolean;
  /** data: URL of the logo (png or svg), or null. */
  logo: string | null;
  /** The command line the kernel starts with, for "where it runs". */
  argv: string[];
  interruptMode: 'signal' | 'message';
  /** Environment variables from the kernelspec and the cluster's launch parameters. */
  launchSettings: Record<string, string>;
  /** Set when this is a saved size of another environment (listed as its own kernelspec). */
  size?: { environment: string; name: string };
}

export interface EnvironmentProblem {
  name: string;
  path: string;
  message: string;
}

export interface EnvironmentList {
  clusterId: string;
  environments: KernelEnvironment[];
  problems: EnvironmentProblem[];
  /** Set when the list could not be read (cluster unreachable...). */
  error: string | null;
}

export type * from './kernel-models';

export type LaunchStatus = 'running' | 'done' | 'failed';

export interface LaunchProgressEvent {
  launchId: string;
  kernelId: string | null;
  clusterId: string;
  specName: string;
  phase: string;
  message: string;
  /** The cluster's own words for this phase (a pod's event, a gateway's message), when it gave any. */
  detail: string | null;
  elapsedMs: number;
  status: LaunchStatus;
  error: string | null;
}

export interface ProxyInfo {
  url: string;
  token: string;
  /** Ready to copy: `jupyter lab --gateway-url=… --GatewayClient.auth_token=…`. */
  labCommand: string;
}

export type LabState = 'stopped' | 'starting' | 'running' | 'failed' | 'not-installed' | 'unavailable';

/** A kernel another client started on a gateway cluster, which the app can adopt (list and relay). */
export interface ForeignKernelSummary {
  clusterId: string;
  id: string;
  specName: string;
  executionState: string;
  lastActivity: string;
  connections: number;
}

export interface LabStatus {
  state: LabState;
  url: string | null;
  message: string;
  /** How to install JupyterLab when none was found. */
  installHint: string | null;
  log: string[];
}

export interface OpenLabOptions {
  notebookDir?: string;
  command?: string;
}

export type ThemeSetting = 'system' | 'light' | 'dark';
export type QuitBehaviour = 'ask' | 'shutdown' | 'leave';

export interface Settings {
  theme: ThemeSetting;
  quitBehaviour: QuitBehaviour;
  notebookDir: string;
  labCommand: string;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogEntry {
  seq: number;
  time: string;
  level: LogLevel;
  source: string;
  message: string;
}

export interface AppInfo {
  name: string;
  version: string;
  /** 'electron' when running in the desktop shell, 'browser' in `npm run serve`. */
  shell: 'electron' | 'browser';
  platform: string;
  dataDir: string;
  /** Where cluster secrets (tokens, passwords) are kept, in words for the form. */
  secretStorage: string;
}

/** One output of a console run. */
export type ConsoleOutput =
  | { type: 'stream'; name: 'stdout' | 'stderr'; text: string }
  | { type: 'error'; ename: string; evalue: string; traceback: string[] }
  | {
      type: 'display';
      data: { 'text/plain'?: string; 'text/html'?: string; 'image/png'?: string };
      executionCount: number | null;
      /** Size the kernel asked for (IPython's Image(width=…, height=…)), in CSS pixels. */
      width?: number;
      height?: number;
    }
  /** The code called input() (or getpass): the console asks, then sends the answer with answerInput. */
  | { type: 'input-request'; prompt: string; password: boolean }
  /** What was answered to an input-request (a password shows as dots). */
  | { type: 'input-reply'; prompt: string; value: string };

export interface ConsoleRun {
  runId: string;
  kernelId: string;
}

export interface ConsoleOutputEvent {
  runId: string;
  kernelId: string;
  output: ConsoleOutput;
}

export interface ConsoleDoneEvent {
  runId: string;
  kernelId: string;
  status: 'ok' | 'error' | 'aborted';
  executionCount: number | null;
}

/** A structured error a host call rejects with (the transports keep code and field errors). */
export interface HostErrorData {
  code: 'invalid-input' | 'not-found' | 'conflict' | 'unavailable' | 'internal' | 'unauthorized';
  message: string;
  fieldErrors?: Record<string, string>;
}

/** The ready-to-copy command line that points JupyterLab at the proxy. */
export function labCommandLine(url: string, token: string): string {
  return `jupyter lab --gateway-url=${url} --GatewayClient.auth_token=${token}`;
}
