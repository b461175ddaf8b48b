// Errors from either transport become HostError (code + field errors kept).
import { ENCODED_ERROR_PREFIX, HostError, type HostErrorData } from '../../../electron/host-api/contract';

export function toHostError(err: unknown): HostError {
  if (err instanceof HostError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const at = message.indexOf(ENCODED_ERROR_PREFIX);
  if (at >= 0) {
    try {
      return new HostError(JSON.parse(message.slice(at + ENCODED_ERROR_PREFIX.length)) as HostErrorData);
    } catch {
      // fall through
    }
  }
  return new HostError({ code: 'internal', message });
}

export function errorText(err: unknown): string {
  return toHostError(err).message;
}
