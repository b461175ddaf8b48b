// The registry of cluster kinds, and the one validator: every stored cluster (clusters.json, a CLI `add`, the
// form through the host API) is checked here, by its kind's schema and checks, so all give the same verdict.
import { Ajv, type ValidateFunction } from 'ajv';
import { ConfigError, type StoredCluster } from '../config-base';
import type { ClusterKindInfo, SettingsValues } from '../../host-api/models';
import { FieldError, type BuildContext, type ClusterKindDescriptor, type FieldProblem } from './types';
import { checkSizes, sizesOf, sizesSchema, withSizes } from './sizes';

export interface ClusterCheck {
  /** Field key -> message (the first problem per field), for the form. */
  fieldErrors: Record<string, string>;
  /** Every problem in words, naming the cluster (for the store, the CLI, a broken clusters.json). */
  problems: string[];
  /** Problems the schema found, with where in the config (`auth.headerName`), for clusters.json messages. */
  at: { path: string; message: string }[];
}

export interface SettingsInput {
  kind: string;
  name: string;
  values: SettingsValues;
}

export class ClusterKindRegistry {
  private kinds = new Map<string, ClusterKindDescriptor>();
  private validators = new Map<string, ValidateFunction>();
  private ajv = new Ajv({ allErrors: true, strict: false });
  private validateSizes = this.ajv.compile(sizesSchema);

  constructor(kinds: readonly ClusterKindDescriptor[] = []) {
    for (const k of kinds) this.register(k);
  }

  /** Add a kind (the built-in list does this; a test may add its own). */
  register<C extends StoredCluster>(kind: ClusterKindDescriptor<C>): void {
    if (!/^[a-z][a-z0-9-]*$/.test(kind.kind))
      throw new Error(`cluster kind "${kind.kind}": not a valid name`);
    if (this.kinds.has(kind.kind)) throw new Error(`cluster kind "${kind.kind}" is registered twice`);
    this.kinds.set(kind.kind, kind as unknown as ClusterKindDescriptor);
    this.validators.set(kind.kind, this.ajv.compile(kind.schema));
  }

  /** Remove a kind a test registered. */
  unregister(name: string): void {
    this.kinds.delete(name);
    this.validators.delete(name);
  }

  list(): ClusterKindDescriptor[] {
    return [...this.kinds.values()];
  }

  get(name: string): ClusterKindDescriptor | undefined {
    return this.kinds.get(name);
  }

  /** The descriptor of a stored cluster's kind; throws a ConfigError for an unknown kind. */
  of(cfg: StoredCluster): ClusterKindDescriptor {
    const k = this.kinds.get(cfg.kind);
    if (!k)
      throw new ConfigError(`cluster "${cfg.name}": unknown kind "${cfg.kind}" (known: ${this.names()})`);
    return k;
  }

  /** Whether a kind's kernels are reached over a network; unknown kinds count as remote (never assumed ok). */
  isRemote(kind: string): boolean {
    return this.kinds.get(kind)?.remote !== false;
  }

  names(): string {
    return [...this.kinds.keys()].join(', ');
  }

  /** What the host API lists: each kind with its fields. */
  info(): ClusterKindInfo[] {
    return this.list().map((k) => ({
      kind: k.kind,
      label: k.label,
      summary: k.summary,
      addableFromForm: k.addableFromForm,
      remote: k.remote,
      intro: k.intro,
      customSections: { ...k.customSections },
      fields: k.fields.map((f) => ({ ...f })),
    }));
  }

  /** The one validator for a stored cluster: its kind's schema, then its kind's checks. */
  check(cfg: unknown, where = ''): ClusterCheck {
    const fieldErrors: Record<string, string> = {};
    const problems: string[] = [];
    const schemaAt: { path: string; message: string }[] = [];
    const add = (p: FieldProblem, label: string): void => {
      fieldErrors[p.field] ??= p.message;
      problems.push(`${label}: ${p.message}`);
    };
    if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) {
      problems.push(`${where || 'a cluster'} is not an object`);
      return { fieldErrors: { name: 'the cluster is not an object' }, problems, at: schemaAt };
    }
    const c = cfg as Record<string, unknown>;
    const label = typeof c.name === 'string' ? `cluster "${c.name}"` : where || 'a cluster';
    const kind = typeof c.kind === 'string' ? this.kinds.get(c.kind) : undefined;
    if (!kind) {
      add(
        { field: 'kind', message: `unknown cluster kind "${String(c.kind)}" (known: ${this.names()})` },
        label,
      );
      return { fieldErrors, problems, at: schemaAt };
    }
    // Saved sizes are the same for every kind: checked here, not by the kind's schema (sizes.ts).
    const { sizes, ...own } = c;
    const sizesOk = sizes === undefined || this.validateSizes(sizes);
    for (const e of sizesOk ? [] : (this.validateSizes.errors ?? [])) {
      const at = ['sizes', ...e.instancePath.split('/').filter(Boolean)].join('.');
      const message = e.message ?? 'is invalid';
      add({ field: 'sizes', message: `${at} ${message}` }, label);
      schemaAt.push({ path: at, message });
    }
    const validate = this.validators.get(kind.kind);
    if (validate && !validate(own)) {
      for (const e of validate.errors ?? []) {
        let message = e.message ?? 'is invalid';
        if (e.keyword === 'additionalProperties')
          message = `has an unknown field "${String(e.params.additionalProperty)}"`;
        if (e.keyword === 'required') message = `is missing the field "${String(e.params.missingProperty)}"`;
        if (e.keyword === 'pattern' && e.instancePath === '/url')
          message = 'must start with http:// or https://';
        if (e.keyword === 'pattern' && e.instancePath === '/wsUrl')
          message = 'must start with ws:// or wss://';
        const at = e.instancePath.split('/').filter(Boolean).join('.');
        const field = ['/id', '/name'].includes(e.instancePath) ? 'name' : kind.fieldOfPath(e.instancePath);
        add({ field, message: `${at || 'the cluster'} ${message}` }, label);
        schemaAt.push({ path: at, message });
      }
    }
    // The kind's checks also run on a config the schema refused (so every field's problem shows at once);
    // one that is too malformed for them has its schema problems already.
    let semantic: FieldProblem[] = [];
    try {
      semantic = kind.check(cfg as StoredCluster);
    } catch {
      semantic = [];
    }
    if (sizesOk) semantic = [...semantic, ...checkSizes(kind, cfg as StoredCluster)];
    // A field both found wrong is told in the kind's words (written for people), once.
    const schemaFields = new Set(Object.keys(fieldErrors));
    const told = new Set<string>();
    for (const p of semantic) {
      if (!schemaFields.has(p.field)) add(p, label);
      else if (!told.has(p.field)) {
        told.add(p.field);
        const before = fieldErrors[p.field];
        fieldErrors[p.field] = p.message;
        const i = problems.indexOf(`${label}: ${before}`);
        if (i >= 0) problems[i] = `${label}: ${p.message}`;
      }
    }
    return { fieldErrors, problems, at: schemaAt };
  }

  /**
   * Field values (from the CLI's flags or the form) -> a stored config, through the kind's build and the one
   * validator. `ctx.secret` decides what happens to secret values (kept, set in the secret store, or a
   * placeholder when only checking).
   */
  fromSettings(
    input: SettingsInput,
    ctx: Omit<BuildContext, 'name'>,
  ): { ok: true; config: StoredCluster } | { ok: false; check: ClusterCheck } {
    // Every field's problem at once (the form highlights them all): name and required fields first, then
    // what building finds (a field it cannot read is left to its default and reported), then the validator.
    const early: FieldProblem[] = [];
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    if (!name) early.push({ field: 'name', message: 'Give the cluster a name.' });
    else if (name.length > 60) early.push({ field: 'name', message: 'Keep the name under 60 characters.' });
    const kind = this.kinds.get(input.kind);
    if (!kind) {
      early.push({ field: 'kind', message: `Pick a cluster type (${this.names()}).` });
      return { ok: false, check: this.merge(input.name, early, null) };
    }
    for (const f of kind.fields) {
      const v = input.values[f.key];
      if (f.required && (v === undefined || (typeof v === 'string' && !v.trim())))
        early.push({ field: f.key, message: `${f.label} is required.` });
    }
    const values = { ...input.values };
    let config: StoredCluster | null = null;
    for (let tries = 0; config === null && tries <= kind.fields.length; tries++) {
      try {
        config = kind.build(values, { ...ctx, name: name || 'cluster' });
      } catch (e) {
        if (!(e instanceof FieldError) || !(e.field in values)) throw e;
        early.push({ field: e.field, message: e.message });
        delete values[e.field];
      }
    }
    if (config === null) return { ok: false, check: this.merge(input.name, early, null) };
    // The form and `env` commands do not edit sizes: an edit keeps the saved ones.
    if (ctx.prev) config = withSizes(config, sizesOf(ctx.prev));
    const check = this.merge(input.name, early, this.check(config));
    return check.problems.length ? { ok: false, check } : { ok: true, config };
  }

  private merge(name: string, early: FieldProblem[], later: ClusterCheck | null): ClusterCheck {
    const fieldErrors: Record<string, string> = {};
    const problems: string[] = [];
    for (const p of early) {
      fieldErrors[p.field] ??= p.message;
      problems.push(`cluster "${name}": ${p.message}`);
    }
    if (later) {
      for (const [f, m] of Object.entries(later.fieldErrors)) fieldErrors[f] ??= m;
      problems.push(...later.problems);
    }
    return { fieldErrors, problems, at: later?.at ?? [] };
  }
}
