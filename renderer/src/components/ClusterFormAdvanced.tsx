// The gateway kind's Advanced section of the cluster form (its descriptor names it: customSections.advanced =
// 'gateway-advanced'): the kind's advanced fields, drawn by KindFields, grouped the way a person looks for
// them: how the token is sent, HTTP login, extra headers, TLS, timeouts.
import type { KindFieldInfo } from '../../../electron/host-api/models';
import { KindFields, type FieldsProps } from './kind-fields';

const GROUPS: { legend: string | null; keys: string[]; row?: boolean }[] = [
  { legend: 'How the token is sent', keys: ['authHeaderName', 'authScheme'], row: true },
  { legend: 'HTTP login (optional)', keys: ['httpUser', 'httpPassword'], row: true },
  { legend: null, keys: ['extraHeaders'] },
  { legend: 'TLS', keys: ['validateCert', 'caFile', 'clientCertFile', 'clientKeyFile', 'keyPassphrase'] },
  {
    legend: 'Timeouts (seconds)',
    keys: ['connectTimeoutSec', 'launchTimeoutSec', 'requestTimeoutSec'],
    row: true,
  },
];

export function AdvancedSettings(props: FieldsProps) {
  const byKey = new Map(props.fields.map((f) => [f.key, f]));
  const grouped = new Set(GROUPS.flatMap((g) => g.keys));
  const pick = (keys: string[]): KindFieldInfo[] =>
    keys.map((k) => byKey.get(k)).filter((f): f is KindFieldInfo => f !== undefined);
  const rest = props.fields.filter((f) => !grouped.has(f.key));
  return (
    <details className="advanced">
      <summary>Advanced: token header, login, headers, TLS, timeouts</summary>
      {GROUPS.map((g) => {
        const fields = pick(g.keys);
        if (!fields.length) return null;
        const inner = g.row ? (
          <div className="row">
            <KindFields {...props} fields={fields} />
          </div>
        ) : (
          <KindFields {...props} fields={fields} />
        );
        return g.legend ? (
          <fieldset key={g.legend}>
            <legend>{g.legend}</legend>
            {inner}
          </fieldset>
        ) : (
          <div key={g.keys.join()}>{inner}</div>
        );
      })}
      {rest.length > 0 && <KindFields {...props} fields={rest} />}
    </details>
  );
}
