// A tiny typed event emitter: `on()` returns an unsubscribe function, a throwing listener never breaks
// the emitter or the other listeners.

/** Map of event name -> payload type. */
export type EventMap = Record<string, unknown>;

export type Listener<T> = (payload: T) => void;

/** Typed, synchronous event emitter. */
export class TypedEmitter<E extends EventMap> {
  private readonly listeners = new Map<keyof E, Set<Listener<never>>>();

  /** Subscribe to one event; returns a function that unsubscribes. */
  on<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => {
      set.delete(listener as Listener<never>);
    };
  }

  /** Subscribe for one delivery only. */
  once<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    const off = this.on(event, (p) => {
      off();
      listener(p);
    });
    return off;
  }

  protected emit<K extends keyof E>(event: K, payload: E[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const l of [...set]) {
      try {
        (l as Listener<E[K]>)(payload);
      } catch (err) {
        console.error(`listener for ${String(event)} failed:`, err);
      }
    }
  }

  /** Drop every listener. */
  removeAllListeners(): void {
    this.listeners.clear();
  }
}
