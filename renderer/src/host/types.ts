import type { HostApi } from '../../../electron/host-api/contract';

/** 'open' once calls flow; 'reconnecting' after a drop (serve mode); 'unauthorized' for a bad token. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'unauthorized' | 'no-token';

export interface HostConnection {
  readonly api: HostApi;
  readonly state: ConnectionState;
  onState(listener: (s: ConnectionState) => void): () => void;
  close(): void;
}
