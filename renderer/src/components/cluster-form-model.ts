// The cluster form's own state, for any cluster kind: its fields (from the host API's listClusterKinds) as
// text, checkboxes and key/value rows, and the conversion to the contract's ClusterInput. Pure, so it is
// unit-tested in Node. Whether the values are good is the main process's verdict (checkCluster, addCluster).
import type {
  ClusterDetail,
  ClusterInput,
  ClusterKindInfo,
  KindFieldInfo,
  SettingItem,
  SettingsValues,
} from '../../../electron/host-api/models';

export interface Pair {
  key: string;
  value: string;
}

export interface FormState {
  name: string;
  kind: string;
  /** text, url, path, secret, seconds fields; list fields as "a, b". */
  text: Record<string, string>;
  checks: Record<string, boolean>;
  pairs: Record<string, Pair[]>;
  /** items fields: records a kind's own section edits (e.g. an SSH cluster's kernel environments). */
  items: Record<string, SettingItem[]>;
  /** Secret fields with a value saved (then empty keeps it). */
  saved: Record<string, boolean>;
  /** Secret fields whose saved value is to be removed. */
  clear: Record<string, boolean>;
}

const listText = (v: unknown): string => (Array.isArray(v) ? v.join(', ') : '');
const pairsOf = (v: unknown): Pair[] =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
    ? Object.entries(v as Record<string, string>).map(([key, value]) => ({ key, value }))
    : [];

const itemsOf = (v: unknown): SettingItem[] =>
  Array.isArray(v)
    ? v
        .filter((x): x is SettingItem => typeof x === 'object' && x !== null && !Array.isArray(x))
        .map((x) => ({ ...x }))
    : [];

/** The form for a kind, filled with `values` (its defaults where a value is missing). */
export function formFor(
  kind: ClusterKindInfo,
  name = '',
  values: SettingsValues = {},
  saved: Record<string, boolean> = {},
): FormState {
  const f: FormState = {
    name,
    kind: kind.kind,
    text: {},
    checks: {},
    pairs: {},
    items: {},
    saved: {},
    clear: {},
  };
  for (const field of kind.fields) {
    const v = values[field.key] ?? field.default;
    if (field.type === 'boolean') f.checks[field.key] = v !== false;
    else if (field.type === 'map') f.pairs[field.key] = pairsOf(v);
    else if (field.type === 'list') f.text[field.key] = listText(v);
    else if (field.type === 'items') f.items[field.key] = itemsOf(v);
    else if (field.type === 'secret') {
      f.text[field.key] = '';
      f.saved[field.key] = saved[field.key] === true;
      f.clear[field.key] = false;
    } else f.text[field.key] = v === undefined ? '' : String(v);
  }
  return f;
}

/** The edit form of a saved cluster. */
export function formOf(
  kind: ClusterKindInfo,
  c: Pick<ClusterDetail, 'name' | 'settings' | 'secretsSet'>,
): FormState {
  return formFor(kind, c.name, c.settings, c.secretsSet);
}

function valueOf(field: KindFieldInfo, f: FormState): SettingsValues[string] {
  const text = (f.text[field.key] ?? '').trim();
  switch (field.type) {
    case 'boolean':
      return f.checks[field.key] !== false;
    case 'map':
      return Object.fromEntries(
        (f.pairs[field.key] ?? []).filter((p) => p.key.trim()).map((p) => [p.key.trim(), p.value]),
      );
    case 'items':
      return f.items[field.key] ?? [];
    case 'list':
      return text
        .split(/[\s,]+/)
        .map((s) => s.trim())
        .filter(Boolean);
    case 'seconds':
      // Not a number: sent as typed, so the main process names the field (JSON would turn NaN into null).
      return /^\d+(\.\d+)?$/.test(text) ? Number(text) : text;
    case 'secret': {
      // A new value sets it; empty keeps a saved one unless "remove" is ticked; no saved one means none.
      const v = f.text[field.key] ?? '';
      if (v) return v;
      return f.saved[field.key] && !f.clear[field.key] ? undefined : '';
    }
    default:
      return text;
  }
}

/** Form state -> the contract's ClusterInput (secrets: undefined keeps the saved one). */
export function toInput(kind: ClusterKindInfo, f: FormState): ClusterInput {
  const settings: SettingsValues = {};
  for (const field of kind.fields) {
    const v = valueOf(field, f);
    if (v !== undefined) settings[field.key] = v;
  }
  return { name: f.name.trim(), kind: kind.kind, settings };
}
