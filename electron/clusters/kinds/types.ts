// What a cluster kind says about itself. One descriptor per kind, in its own folder
// (electron/clusters/kinds/<kind>/index.ts), listed once in electron/clusters/kinds/index.ts. The store, the
// CLI (`cluster add <kind>` flags and --help), the host API (listClusterKinds, the one validator) and the
// renderer's form are all driven by these descriptors; nothing outside a kind's folder tests a kind's name.
import type { AnySchema } from 'ajv';
import type { StoredCluster } from '../config-base';
import type { ClusterRuntime } from '../types';
import type { Diagnosis } from '../diagnose';
import type { SecretLookup } from '../../secrets/secret-store';
import type { GatewayRuntimeOptions } from '../gateway/runtime';
import type { HostKeyInfo, KindFieldInfo, SettingItem, SettingsValues } from '../../host-api/models';
import type { LaunchEnvironment, LaunchParameter } from './launch-parameters';
import type { CullPolicy } from './culling';

export type { KindFieldInfo, SettingsValues, SettingValue } from '../../host-api/models';

/** A problem with a cluster's settings, naming the settings field (a KindFieldInfo key) it is about. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** Thrown by a kind's build() for input it cannot even turn into a config (e.g. a missing required value). */
export class FieldError extends Error {
  override name = 'FieldError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export interface RuntimeFactoryOptions {
  secrets: SecretLookup;
  /** Kernelspec directories for local clusters that set none (tests use temp dirs). */
  localKernelSpecDirs?: string[];
  /** Relay tuning (backoff, logging). */
  gateway?: GatewayRuntimeOptions;
  /** Local kernels may outlive the app ("Leave running"; see LocalClusterOptions.survivesApp). */
  localKernelsSurviveApp?: boolean;
  /** This app install's id (electron/clusters/install-id.ts): container kinds label their kernels with it. */
  installId?: string;
}

/** What build() gets besides the field values. */
export interface BuildContext {
  id: string;
  name: string;
  /** The saved config when editing (keys the form does not show are kept from it). */
  prev: StoredCluster | null;
  /**
   * A secret field's value: undefined keeps the saved one (`had`), '' clears it, a value sets it. Returns the
   * secret-store key to put in the config, or undefined when there is none.
   */
  secret(field: string, key: string, value: string | undefined, had: string | undefined): string | undefined;
}

/** Saved state of a kernel left running ("Leave running", crash journal): a kind's own JSON, tagged with it. */
export interface KeptDetails {
  kind: string;
  [k: string]: unknown;
}

/** A kernelspec someone else wrote, read into a kind's environment record. */
export interface KernelSpecImport {
  item: SettingItem;
  /** What was taken from it, in words. */
  imported: string[];
  /** What was left out, and why. */
  ignored: string[];
}

/** A kind whose kernel environments are its settings (`npm run cluster -- env ...` edits them). */
export interface KindEnvironments<C extends StoredCluster = StoredCluster> {
  /** The `items` field that holds them (the form's section edits the same field). */
  readonly field: string;
  /** Every environment the cluster lists, built-in ones first, for `env list`. */
  describe(cfg: C): { name: string; detail: string; builtIn: boolean }[];
  /** A parsed kernel.json -> an environment record; throws an Error that says why it cannot be one. */
  fromKernelSpec(spec: unknown, opts: { dirName: string; name?: string; cfg: C }): KernelSpecImport;
}

export interface ClusterKindDescriptor<C extends StoredCluster = StoredCluster> {
  /** The name in clusters.json, the CLI (`cluster add <kind>`) and the host API. Lowercase, no spaces. */
  readonly kind: string;
  /** How the UI names the kind ("Remote gateway"). */
  readonly label: string;
  /** One line for `--help` and the form. */
  readonly summary: string;
  /** Its kernels are reached over a network: health is checked, "Test connection" has something to test. */
  readonly remote: boolean;
  /** False for kinds the form does not offer to add (the built-in local one); the CLI still can. */
  readonly addableFromForm: boolean;
  /** JSON schema of the stored config (id, name, kind, enabled and the kind's own settings). */
  readonly schema: AnySchema;
  /** The form's opening sentence. */
  readonly intro: string;
  /**
   * Form sections drawn by a component of the renderer's (section -> component name, see
   * renderer/src/components/kind-sections.tsx) where generic fields cannot serve.
   */
  readonly customSections?: Partial<Record<KindFieldInfo['section'], string>>;
  /** Kernel environments kept in the settings (edited by the CLI's `env` commands). */
  readonly environments?: KindEnvironments<C>;
  /** The settings fields, in form order: labels, help, defaults, secrets, CLI flags. */
  readonly fields: readonly KindFieldInfo[];
  /** A type guard for this kind's configs (the only place a kind's name is compared). */
  is(cfg: StoredCluster): cfg is C;
  /** Field values -> stored config (no validation beyond what building needs; the registry validates). */
  build(values: SettingsValues, ctx: BuildContext): C;
  /** Stored config -> field values as the form shows them (secret fields: '' ; see secretsSet()). */
  values(cfg: C): SettingsValues;
  /** Which secret fields have a value saved (for "a token is saved"). */
  secretsSet(cfg: C, secrets: SecretLookup): Record<string, boolean>;
  /** Semantic checks beyond the schema. */
  check(cfg: C): FieldProblem[];
  /** Map a schema error's path inside the config (e.g. /auth/headerName) to a field key. */
  fieldOfPath(path: string): string;
  /** Secret-store keys the config uses (their values make a runtime stale when they change). */
  secretKeys(cfg: C): string[];
  /** Where its kernels run, in a few words for `cluster list` and the UI ("https://gw…", "this computer"). */
  where(cfg: C): string;
  /** The URL to show in the cluster list, or null. */
  url(cfg: C): string | null;
  /** Launch settings every start sends (shown with a cluster's environments). */
  launchSettings(cfg: C): Record<string, string>;
  /**
   * The KERNEL_* parameters a person may choose when starting one kernel of `env` (the launch form, in form
   * order; build them with launchParameter() from launch-parameters.ts). Without it the form offers only
   * free KERNEL_* rows, checked by the generic rules.
   */
  launchParameters?(cfg: C, env: LaunchEnvironment): LaunchParameter[];
  /**
   * Checks only the cluster can make, after the syntax passed (an image the engine has, a directory that
   * exists): problems naming the variable as `field`. Values are the non-empty ones the start would send.
   */
  checkLaunchParameters?(
    cfg: C,
    env: LaunchEnvironment,
    values: Record<string, string>,
    secrets: SecretLookup,
  ): Promise<FieldProblem[]>;
  createRuntime(cfg: C, opts: RuntimeFactoryOptions): ClusterRuntime;
  /**
   * Idle culling of this cluster's kernels, enforced by the app's kernel registry (kinds whose kernels the app
   * provisions; see culling.ts). Absent or null: never culled here (a gateway culls its own kernels).
   */
  culling?(cfg: C): CullPolicy | null;
  /** "Test connection". */
  diagnose(cfg: C, secrets: SecretLookup): Promise<Diagnosis>;
  /**
   * Kinds whose hosts prove themselves with SSH host keys: the first key known_hosts does not vouch for (null
   * when all are trusted), and trusting a key the user confirmed (the file written, null if already trusted).
   */
  readonly hostKeys?: {
    check(cfg: C, secrets: SecretLookup): Promise<HostKeyInfo | null>;
    trust(
      cfg: C,
      secrets: SecretLookup,
      key: { host: string; port: number; fingerprint: string },
    ): Promise<string | null>;
  };
  /** Kernels left running: check saved details read back from disk, and drop ones that cannot come back. */
  readonly kept?: {
    parse(details: KeptDetails): KeptDetails | null;
    /** Clean up after a kernel that could not be re-attached; returns words for the log ('' for none). */
    drop?(kernelId: string, details: KeptDetails): Promise<string>;
  };
}
