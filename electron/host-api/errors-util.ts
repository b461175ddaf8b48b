// Turning errors and raw input into the host API's HostErrors.
import { HostError } from './contract';

export function msg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function asHostError(err: unknown, fallback: HostError['code'] = 'internal'): HostError {
  if (err instanceof HostError) return err;
  const status = (err as { status?: unknown } | null)?.status;
  const code: HostError['code'] = status === 404 ? 'not-found' : status === 400 ? 'invalid-input' : fallback;
  return new HostError({ code, message: msg(err) });
}

export function requireString(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 1000)
    throw new HostError({ code: 'invalid-input', message: `${what} is missing or not valid.` });
  return v;
}
