// The host API's events: listeners per event and for every event (what the transports use). Once closed,
// nothing more is delivered.
import type { HostEventListener, HostEventName, HostEvents } from './contract';

export type AnyEventListener = (event: HostEventName, payload: HostEvents[HostEventName]) => void;

export class HostEventHub {
  private readonly listeners = new Map<HostEventName, Set<(p: unknown) => void>>();
  private readonly anyListeners = new Set<AnyEventListener>();
  private closed = false;

  on<E extends HostEventName>(event: E, listener: HostEventListener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    const l = listener as (p: unknown) => void;
    set.add(l);
    return () => set.delete(l);
  }

  onAny(listener: AnyEventListener): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  emit<E extends HostEventName>(event: E, payload: HostEvents[E]): void {
    if (this.closed) return;
    for (const l of [...(this.listeners.get(event) ?? [])]) l(payload);
    for (const l of [...this.anyListeners]) l(event, payload);
  }

  close(): void {
    this.closed = true;
    this.listeners.clear();
    this.anyListeners.clear();
  }
}
