// The gateway kind's settings fields (labels, help, defaults, secrets, CLI flags) and the two conversions
// between their values and the stored config. The keys are the form's inputs and the keys of the host API's
// GatewaySettingsInput, so a field error names the input it is about.
import type { KindFieldInfo, SettingsValues } from '../../../host-api/models';
import { FieldError, type BuildContext } from '../types';
import {
  DEFAULT_TIMEOUTS,
  normalizeTimeouts,
  secretKeys,
  type GatewayClusterConfig,
  type GatewayInput,
} from './config';
import { KNOWN_LAUNCH_PARAMS } from './launch-params';

const sec = (ms: number): number => ms / 1000;

export const GATEWAY_FIELDS: readonly KindFieldInfo[] = [
  {
    key: 'url',
    label: 'Gateway URL',
    help: 'e.g. https://gateway.example.edu:8888 (with the base path, if any)',
    type: 'url',
    required: true,
    section: 'connection',
    form: { id: 'cf-url', placeholder: 'https://' },
    cli: { flag: 'url', arg: 'URL' },
  },
  {
    key: 'authToken',
    label: 'Token',
    help: 'read from environment variable VAR and stored as a secret (never on the command line or in clusters.json)',
    type: 'secret',
    section: 'connection',
    form: { id: 'cf-token', help: 'Kept out of the settings file.' },
    cli: { flag: 'token-env', arg: 'VAR', fromEnv: true },
  },
  {
    key: 'kernelUsername',
    label: 'KERNEL_USERNAME',
    help: 'your user name on the gateway, sent as KERNEL_USERNAME with every start and as ?user= when listing kernelspecs (default: the one the Jupyter client sends, else the HTTP user, else your user name on this computer)',
    type: 'text',
    section: 'connection',
    form: {
      id: 'cf-user',
      help: "Your user name on the gateway (e.g. your university account); it wins over the one a Jupyter client sends. Empty: the client's, else your user name on this computer.",
    },
    cli: { flag: 'username', arg: 'U' },
  },
  {
    key: 'authHeaderName',
    label: 'Token header',
    help: 'header that carries the token',
    type: 'text',
    default: 'Authorization',
    section: 'advanced',
    form: { id: 'cf-hname' },
    cli: { flag: 'auth-header', arg: 'NAME' },
  },
  {
    key: 'authScheme',
    label: 'Scheme',
    help: 'scheme before the token (e.g. Bearer)',
    type: 'text',
    default: 'token',
    section: 'advanced',
    form: { id: 'cf-scheme', help: 'token, or Bearer' },
    cli: { flag: 'auth-scheme', arg: 'S' },
  },
  {
    key: 'httpUser',
    label: 'User',
    help: 'HTTP basic auth user; the password comes from --password-env VAR',
    type: 'text',
    section: 'advanced',
    form: { id: 'cf-huser', help: '' },
    cli: { flag: 'http-user', arg: 'U' },
  },
  {
    key: 'httpPassword',
    label: 'Password',
    help: 'HTTP basic auth password, read from environment variable VAR',
    type: 'secret',
    section: 'advanced',
    form: { id: 'cf-hpass', help: '' },
    cli: { flag: 'password-env', arg: 'VAR', fromEnv: true },
  },
  {
    key: 'extraHeaders',
    label: 'Extra headers',
    help: 'extra header sent with every request and the WebSocket handshake',
    type: 'map',
    default: {},
    section: 'advanced',
    form: { keyLabel: 'Header', valueLabel: 'Value', addLabel: 'Add header' },
    cli: { flag: 'header', arg: '"K: V"', separator: ':' },
  },
  {
    key: 'caFile',
    label: 'CA bundle file (PEM)',
    help: "PEM file of certificate authorities to trust (your university's CA, a self-signed server)",
    type: 'path',
    section: 'advanced',
    form: {
      id: 'cf-ca',
      help: 'For a university CA or a self-signed server',
      placeholder: '/path/to/ca.pem',
    },
    cli: { flag: 'ca-file', arg: 'F' },
  },
  {
    key: 'clientCertFile',
    label: 'Client certificate',
    help: 'client certificate (PEM) for mutual TLS, with --client-key F',
    type: 'path',
    section: 'advanced',
    form: { id: 'cf-cert', help: '' },
    cli: { flag: 'client-cert', arg: 'F' },
  },
  {
    key: 'clientKeyFile',
    label: 'Client key',
    help: 'client private key (PEM); its passphrase from --key-passphrase-env VAR',
    type: 'path',
    section: 'advanced',
    form: { id: 'cf-key', help: '' },
    cli: { flag: 'client-key', arg: 'F' },
  },
  {
    key: 'keyPassphrase',
    label: 'Key passphrase',
    help: 'passphrase of the client key, read from environment variable VAR',
    type: 'secret',
    section: 'advanced',
    form: { id: 'cf-kpass', help: '' },
    cli: { flag: 'key-passphrase-env', arg: 'VAR', fromEnv: true },
  },
  {
    key: 'validateCert',
    label: 'Check the server certificate (turn off only for a test server you trust)',
    help: "do not verify the server's certificate (only for a test server you control)",
    type: 'boolean',
    default: true,
    section: 'advanced',
    form: { id: 'cf-tls' },
    cli: { flag: 'insecure', invert: true },
  },
  {
    key: 'launchParams',
    label: 'Launch parameters',
    help: 'launch parameter sent with every start, e.g. KERNEL_MEMORY=4G',
    type: 'map',
    default: {},
    section: 'launch',
    suggestions: KNOWN_LAUNCH_PARAMS.map((p) => ({ value: p.name, hint: p.description })),
    form: {
      help: 'KERNEL_* variables sent with every kernel start (image, CPUs, memory…). Pick a known one or type your own.',
      keyLabel: 'Parameter',
      valueLabel: 'Value',
      addLabel: 'Add launch parameter',
    },
    cli: { flag: 'launch', arg: 'KERNEL_X=V', separator: '=' },
  },
  {
    key: 'envAllowlist',
    label: 'Also forward these environment variables',
    help: 'also forward this client environment variable on start',
    type: 'list',
    default: [],
    section: 'launch',
    form: { id: 'cf-env', help: 'Names separated by commas, e.g. SPARK_OPTS, MY_PROJECT' },
    cli: { flag: 'forward-env', arg: 'NAME' },
  },
  {
    key: 'connectTimeoutSec',
    label: 'Connect',
    help: `seconds to establish a connection (default ${sec(DEFAULT_TIMEOUTS.connectMs)})`,
    type: 'seconds',
    default: sec(DEFAULT_TIMEOUTS.connectMs),
    section: 'advanced',
    form: { id: 'cf-tc', help: '' },
    cli: { flag: 'connect-timeout', arg: 'S' },
  },
  {
    key: 'requestTimeoutSec',
    label: 'Request',
    help: `seconds for a request (default ${sec(DEFAULT_TIMEOUTS.requestMs)}; at least launch timeout + ${sec(DEFAULT_TIMEOUTS.launchPadMs)})`,
    type: 'seconds',
    default: sec(DEFAULT_TIMEOUTS.requestMs),
    section: 'advanced',
    form: { id: 'cf-tr', help: 'At least launch + 2' },
    cli: { flag: 'request-timeout', arg: 'S' },
  },
  {
    key: 'launchTimeoutSec',
    label: 'Kernel launch',
    help: `seconds the gateway may take to start a kernel (default ${sec(DEFAULT_TIMEOUTS.launchMs)})`,
    type: 'seconds',
    default: sec(DEFAULT_TIMEOUTS.launchMs),
    section: 'advanced',
    form: { id: 'cf-tl', help: '' },
    cli: { flag: 'launch-timeout', arg: 'S' },
  },
];

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
function ms(values: SettingsValues, key: string): number | undefined {
  const v = values[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    throw new FieldError(key, 'enter a positive number of seconds');
  return Math.round(v * 1000);
}
const map = (v: unknown): Record<string, string> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? { ...(v as Record<string, string>) } : {};
const list = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
const secretValue = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Field values -> GatewayInput (what makeGatewayConfig builds a config from). */
export function gatewayInputOf(values: SettingsValues, ctx: BuildContext): GatewayInput {
  const prev = ctx.prev as GatewayClusterConfig | null;
  const gi: GatewayInput = {
    id: ctx.id,
    name: ctx.name,
    url: typeof values.url === 'string' ? values.url.trim() : '',
    authHeaderName: str(values.authHeaderName) ?? 'Authorization',
    authScheme: typeof values.authScheme === 'string' ? values.authScheme.trim() : 'token',
    headers: map(values.extraHeaders),
    validateCert: values.validateCert !== false,
    timeouts: {
      connectMs: ms(values, 'connectTimeoutSec'),
      launchMs: ms(values, 'launchTimeoutSec'),
      requestMs: ms(values, 'requestTimeoutSec'),
    },
    launchParams: Object.entries(map(values.launchParams)).map(([name, value]) => ({ name, value })),
    forwardEnv: list(values.envAllowlist),
  };
  const tokenSecret = ctx.secret(
    'authToken',
    secretKeys.token(ctx.id),
    secretValue(values.authToken),
    prev?.auth.tokenSecret,
  );
  const passwordSecret = ctx.secret(
    'httpPassword',
    secretKeys.password(ctx.id),
    secretValue(values.httpPassword),
    prev?.basicAuth?.passwordSecret,
  );
  const passphraseSecret = ctx.secret(
    'keyPassphrase',
    secretKeys.keyPassphrase(ctx.id),
    secretValue(values.keyPassphrase),
    prev?.tls.keyPassphraseSecret,
  );
  if (tokenSecret) gi.tokenSecret = tokenSecret;
  if (str(values.httpUser)) gi.httpUser = str(values.httpUser);
  if (passwordSecret) gi.passwordSecret = passwordSecret;
  if (str(values.caFile)) gi.caFile = str(values.caFile);
  if (str(values.clientCertFile)) gi.clientCertFile = str(values.clientCertFile);
  if (str(values.clientKeyFile)) gi.clientKeyFile = str(values.clientKeyFile);
  if (passphraseSecret) gi.keyPassphraseSecret = passphraseSecret;
  if (typeof values.kernelUsername === 'string' && values.kernelUsername !== '')
    gi.kernelUsername = values.kernelUsername;
  if (prev?.wsUrl) gi.wsUrl = prev.wsUrl;
  if (prev?.endpoints) gi.endpoints = prev.endpoints;
  if (prev?.pollIntervalMs !== undefined) gi.pollIntervalMs = prev.pollIntervalMs;
  return gi;
}

/** Stored config -> field values (secrets left out). */
export function gatewayValuesOf(c: GatewayClusterConfig): SettingsValues {
  const t = normalizeTimeouts(c.timeouts);
  return {
    url: c.url,
    authHeaderName: c.auth.headerName,
    authScheme: c.auth.scheme,
    httpUser: c.basicAuth?.user ?? '',
    extraHeaders: { ...c.headers },
    validateCert: c.tls.validate,
    caFile: c.tls.caFile ?? '',
    clientCertFile: c.tls.clientCertFile ?? '',
    clientKeyFile: c.tls.clientKeyFile ?? '',
    kernelUsername: c.kernelUsername ?? '',
    // Seconds as stored (not rounded): a cluster saved with 40.5 s comes back the same.
    connectTimeoutSec: t.connectMs / 1000,
    launchTimeoutSec: t.launchMs / 1000,
    requestTimeoutSec: t.requestMs / 1000,
    launchParams: Object.fromEntries(c.launchParams.map((p) => [p.name, p.value])),
    envAllowlist: [...c.forwardEnv],
  };
}
