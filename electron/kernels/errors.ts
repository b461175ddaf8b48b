// Errors the registry and the cluster directory throw; each carries the HTTP status the gateway proxy
// answers with, and a short `reason` for the `{reason, message}` JSON error body.

/** Base class: an error with an HTTP status and a short reason phrase. */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 404: no kernel with this id. */
export class KernelNotFoundError extends GatewayError {
  constructor(id: string) {
    super(404, 'Not Found', `Kernel does not exist: ${id}`);
  }
}

/** 404: no kernelspec with this name on any enabled cluster. */
export class KernelSpecNotFoundError extends GatewayError {
  constructor(name: string) {
    super(404, 'Not Found', `No such kernel spec: ${name}`);
  }
}

/** 400: the request is malformed (bad JSON, wrong types). */
export class BadRequestError extends GatewayError {
  constructor(message: string) {
    super(400, 'Bad Request', message);
  }
}

/** 500: the kernel could not be started; `message` says why (missing program, timeout, ...). */
export class KernelLaunchError extends GatewayError {
  constructor(message: string) {
    super(500, 'Kernel launch failed', message);
  }
}

/** 503: the app is shutting down and accepts no new kernels. */
export class ShuttingDownError extends GatewayError {
  constructor() {
    super(503, 'Service Unavailable', 'Gateway Desktop is shutting down; no new kernels are started');
  }
}

/** Message of any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
