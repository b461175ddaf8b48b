// One call path for both transports: check the method name and the argument list, run it on the service,
// and turn any failure into HostErrorData (so code and field errors survive any transport).
import { HostError, isHostMethodName, type HostMethods } from './contract';
import type { HostErrorData } from './models';

export type DispatchResult = { ok: true; value: unknown } | { ok: false; error: HostErrorData };

const MAX_ARGS = 4;

export function toErrorData(err: unknown): HostErrorData {
  if (err instanceof HostError) return err.toData();
  const status = (err as { status?: unknown } | null)?.status;
  const message = err instanceof Error ? err.message : String(err);
  if (status === 404) return { code: 'not-found', message };
  if (status === 400) return { code: 'invalid-input', message };
  if (status === 409) return { code: 'conflict', message };
  return { code: 'internal', message };
}

export async function dispatch(
  service: HostMethods,
  method: unknown,
  args: unknown,
): Promise<DispatchResult> {
  if (!isHostMethodName(method))
    return { ok: false, error: { code: 'not-found', message: `Unknown method.` } };
  if (!Array.isArray(args) || args.length > MAX_ARGS)
    return { ok: false, error: { code: 'invalid-input', message: 'Bad arguments.' } };
  try {
    const fn = service[method] as (...a: unknown[]) => Promise<unknown>;
    const value = await fn.apply(service, args);
    return { ok: true, value: value === undefined ? null : value };
  } catch (err) {
    return { ok: false, error: toErrorData(err) };
  }
}
