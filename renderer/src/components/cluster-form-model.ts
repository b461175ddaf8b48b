// The cluster form's own state (numbers as text, maps as editable rows) and its conversion to the
// contract's ClusterInput. Pure, so it is unit-tested in Node.
import type { ClusterInput, GatewaySettingsInput } from '../../../electron/host-api/models';
import { defaultGatewaySettings } from '../../../electron/host-api/models';

export interface Pair {
  key: string;
  value: string;
}

/** The form's own state: numbers as text, maps as editable rows. */
export interface FormState {
  name: string;
  url: string;
  authToken: string;
  hasAuthToken: boolean;
  clearToken: boolean;
  authHeaderName: string;
  authScheme: string;
  httpUser: string;
  httpPassword: string;
  hasHttpPassword: boolean;
  headers: Pair[];
  validateCert: boolean;
  caFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  kernelUsername: string;
  connectTimeoutSec: string;
  launchTimeoutSec: string;
  requestTimeoutSec: string;
  launchParams: Pair[];
  envAllowlist: string;
}

export function emptyForm(): FormState {
  const d = defaultGatewaySettings();
  return {
    name: '',
    url: '',
    authToken: '',
    hasAuthToken: false,
    clearToken: false,
    authHeaderName: d.authHeaderName,
    authScheme: d.authScheme,
    httpUser: '',
    httpPassword: '',
    hasHttpPassword: false,
    headers: [],
    validateCert: true,
    caFile: '',
    clientCertFile: '',
    clientKeyFile: '',
    kernelUsername: '',
    connectTimeoutSec: String(d.connectTimeoutSec),
    launchTimeoutSec: String(d.launchTimeoutSec),
    requestTimeoutSec: String(d.requestTimeoutSec),
    launchParams: [],
    envAllowlist: '',
  };
}

const toMap = (pairs: Pair[]): Record<string, string> =>
  Object.fromEntries(pairs.filter((p) => p.key.trim()).map((p) => [p.key.trim(), p.value]));

const num = (s: string): number => (s.trim() === '' ? NaN : Number(s));

/** Form state -> the contract's ClusterInput (secrets: undefined keeps the saved one). */
export function toInput(f: FormState): ClusterInput {
  const gateway: GatewaySettingsInput = {
    url: f.url.trim(),
    authHeaderName: f.authHeaderName.trim(),
    authScheme: f.authScheme.trim(),
    httpUser: f.httpUser.trim(),
    extraHeaders: toMap(f.headers),
    validateCert: f.validateCert,
    caFile: f.caFile.trim(),
    clientCertFile: f.clientCertFile.trim(),
    clientKeyFile: f.clientKeyFile.trim(),
    kernelUsername: f.kernelUsername.trim(),
    connectTimeoutSec: num(f.connectTimeoutSec),
    launchTimeoutSec: num(f.launchTimeoutSec),
    requestTimeoutSec: num(f.requestTimeoutSec),
    launchParams: toMap(f.launchParams),
    envAllowlist: f.envAllowlist
      .split(/[\s,]+/)
      .map((s) => s.trim())
      .filter(Boolean),
  };
  if (f.authToken) gateway.authToken = f.authToken;
  else if (f.clearToken || !f.hasAuthToken) gateway.authToken = '';
  if (f.httpPassword) gateway.httpPassword = f.httpPassword;
  else if (!f.hasHttpPassword) gateway.httpPassword = '';
  return { name: f.name.trim(), kind: 'gateway', gateway };
}
