// The text of `npm run cluster -- --help` and the flags of `cluster add <kind>`, both generated from the
// cluster kinds' fields (electron/clusters/kinds/): a kind's new field is a new flag, documented.
import { clusterKinds, type ClusterKindRegistry } from '../clusters/kinds';
import { KNOWN_LAUNCH_PARAMS } from '../clusters/kinds/gateway/launch-params';
import type { KindFieldInfo } from '../host-api/models';
import { defaultDataDir } from './data-dir';
import { ENV_USAGE } from './cluster-env';
import { SIZE_USAGE } from './cluster-size';

type FlagOption = { type: 'string' | 'boolean'; multiple?: boolean };

/** node:util parseArgs options for every kind's fields. */
export function kindFlagOptions(kinds: ClusterKindRegistry = clusterKinds): Record<string, FlagOption> {
  const out: Record<string, FlagOption> = {};
  for (const k of kinds.list())
    for (const f of k.fields) {
      if (!f.cli) continue;
      const want: FlagOption =
        f.type === 'boolean'
          ? { type: 'boolean' }
          : f.type === 'list' || f.type === 'map'
            ? { type: 'string', multiple: true }
            : { type: 'string' };
      const had = out[f.cli.flag];
      // Kinds share flag names (--host is ssh's repeatable host and docker's engine URL): one parse serves all,
      // repeatable if any kind repeats it; each kind then reads its own (valuesFromFlags).
      if (had && had.type !== want.type)
        throw new Error(
          `--${f.cli.flag} is a ${had.type} flag of one cluster kind and a ${want.type} of ${k.kind}`,
        );
      out[f.cli.flag] = had?.multiple ? had : want;
    }
  return out;
}

function flagText(f: KindFieldInfo): string {
  const c = f.cli!;
  return `--${c.flag}${c.arg ? ` ${c.arg}` : ''}`;
}

function helpOf(f: KindFieldInfo): string {
  const repeat = f.type === 'list' || f.type === 'map' ? ' (repeatable)' : '';
  const def =
    f.default !== undefined &&
    typeof f.default !== 'object' &&
    f.type !== 'boolean' &&
    !/default/.test(f.help)
      ? ` (default: ${String(f.default)})`
      : '';
  return `${f.help}${def}${repeat}`;
}

function optionLines(fields: readonly KindFieldInfo[]): string {
  const lines: string[] = [];
  for (const f of fields) {
    if (!f.cli) continue;
    const flag = flagText(f);
    const words = helpOf(f).split(' ');
    let line = flag.length <= 21 ? `  ${flag.padEnd(23)}` : `  ${flag}\n${' '.repeat(25)}`;
    let width = line.length - line.lastIndexOf('\n') - 1;
    for (const w of words) {
      if (width + w.length > 110 && width > 25) {
        line += `\n${' '.repeat(25)}`;
        width = 25;
      }
      line += `${w} `;
      width += w.length + 1;
    }
    lines.push(line.replace(/ +$/gm, ''));
  }
  return lines.join('\n');
}

export function clusterUsage(kinds: ClusterKindRegistry = clusterKinds): string {
  const adds = kinds.list().map((k) => {
    const req = k.fields.filter((f) => f.required && f.cli).map((f) => ` ${flagText(f)}`);
    const cmd = `add ${k.kind} NAME${req.join('')} [options]`;
    return `  ${cmd.padEnd(38)} add ${k.summary}`;
  });
  const options = kinds
    .list()
    .filter((k) => k.fields.some((f) => f.cli))
    .map((k) => `Options for "add ${k.kind}":\n${optionLines(k.fields)}`);
  return `Usage: npm run cluster -- <command> [options]

Manage the places your notebook kernels run. Changes apply to a running Gateway Desktop at once.

Commands:
${adds.join('\n')}
  list [--json]                          list clusters (* = active: new kernels start there)
  use NAME                               make NAME the active cluster (running kernels stay where they are)
  test NAME [--json]                     test the connection to a cluster and explain any problem
  set NAME --username U                  change a gateway cluster's username (KERNEL_USERNAME); "" clears it
  set NAME --cull-idle-timeout S [--cull-interval S] [--[no-]cull-connected] [--[no-]cull-busy]
                                         idle culling of a local or SSH cluster's kernels (Jupyter's cull_*;
                                         0 turns it off)
  remove NAME                            remove a cluster and its stored secrets
${ENV_USAGE}
${SIZE_USAGE}
  import [NAME]                          add the gateway you set up for Jupyter (JUPYTER_GATEWAY_* variables,
                                         c.GatewayClient.* in jupyter_server_config.py/.json); default name "Gateway"

${options.join('\n\n')}

Options for "add" (any kind) and "import":
  --use                  make the new cluster active

Options for "add" and "test" of clusters reached over SSH:
  --accept-new-host-key  trust a host key that is not in known_hosts yet without asking (check its fingerprint
                         first); without it you are asked at a terminal, and elsewhere the command stops

Common options:
  --data-dir D           data directory (default: ${defaultDataDir()})
  -h, --help             show this help

Known launch parameters: ${KNOWN_LAUNCH_PARAMS.map((p) => p.name).join(', ')}.

Exit status: 0 on success (for "test": the connection works), 1 on an error, 2 on bad usage.
`;
}

/** The help as it is now (kinds registered later, e.g. by a test, show in clusterUsage()). */
export const CLUSTER_USAGE = clusterUsage();
