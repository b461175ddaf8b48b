// The error a cancelled launch throws (name 'AbortError'), shared by the manager and every backend.
export function abortError(message = 'Kernel launch was cancelled'): Error {
  const err = new Error(message);
  err.name = 'AbortError';
  return err;
}
