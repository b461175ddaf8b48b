// One shared clock for relative times ("5 s ago", uptime). It ticks the display; it does not poll anything.
import { createStore, type StoreApi } from 'zustand/vanilla';

export type ClockStore = StoreApi<{ now: number }>;

export function createClockStore(tickMs = 1000): { store: ClockStore; stop(): void } {
  const store = createStore<{ now: number }>()(() => ({ now: Date.now() }));
  const t = setInterval(() => store.setState({ now: Date.now() }), tickMs);
  return { store, stop: () => clearInterval(t) };
}
