// The proxy's options and the shapes of its extension hooks (extra HTTP routes and WebSocket upgrades).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { KernelRegistry } from '../kernels/registry';
import type { RequestContext } from './http-util';
import type { SpecDirectory } from './spec-directory';

export interface GatewayProxyOptions {
  registry: KernelRegistry;
  directory: SpecDirectory;
  /** Extra origins allowed for browsers (CORS + WebSocket), e.g. `http://localhost:8888`. */
  allowedOrigins?: string[];
  /** Extra Host header values accepted (e.g. `myhost:8888`). */
  allowedHosts?: string[];
  /** Largest WebSocket message accepted (bytes); larger closes the socket with 1009. Default 256 MB. */
  maxPayload?: number;
  /**
   * Bytes of incomplete client messages the proxy holds at once, over all kernel sockets (default 256 MB);
   * a big message that does not fit waits (backpressure) until earlier ones are through.
   */
  maxInflightBytes?: number;
  /** Where the user changes maxPayload, named in the close reason of an over-limit message. */
  maxPayloadHint?: string;
  /** Largest REST request body (bytes). Default 1 MB. */
  maxBodyBytes?: number;
  /** Protocol-level WebSocket ping interval (ms). Default 30 s. */
  pingIntervalMs?: number;
  /** Replay buffer per disconnected session (bytes, age). Default 64 MB / 5 min. */
  replayMaxBytes?: number;
  replayMaxAgeMs?: number;
  /** Diagnostics sink (default console.warn). */
  log?: (message: string) => void;
}

export interface ProxyStartOptions {
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /** Port; 0 or absent picks a free one. */
  port?: number;
  /** The token every request must carry (non-empty). */
  token: string;
}

/** Handler for an extra HTTP route. Return false to fall through to a 404. */
export type RouteHandler = (ctx: RequestContext) => void | boolean | Promise<void | boolean>;

export interface RouteOptions {
  /** Require the token (default true). Static UI shells may opt out; Host/Origin checks still apply. */
  auth?: boolean;
}

/** Context of an extra WebSocket upgrade path (auth, Host and Origin already checked). */
export interface UpgradeContext {
  pathname: string;
  query: URLSearchParams;
  /** Complete the upgrade with the proxy's settings (no compression, maxPayload, Nagle off). */
  accept(): Promise<WebSocket>;
  /** Refuse the upgrade with an HTTP status and a JSON `{reason, message}` body. */
  reject(status: number, message: string): void;
}

export type UpgradeHandler = (
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  ctx: UpgradeContext,
) => void;
