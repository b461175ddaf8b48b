import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { StoreApi } from 'zustand/vanilla';
import type { Model } from './stores/model';

export const ModelContext = createContext<Model | null>(null);

export function useModel(): Model {
  const m = useContext(ModelContext);
  if (!m) throw new Error('ModelContext missing');
  return m;
}

type StoreKey = 'app' | 'clusters' | 'kernels' | 'console' | 'clock';
type StateOf<K extends StoreKey> = Model[K] extends StoreApi<infer T> ? T : never;

/** Select from one of the model's stores. */
export function useSel<K extends StoreKey, R>(key: K, selector: (s: StateOf<K>) => R): R {
  const m = useModel();
  const store = m[key] as unknown as StoreApi<StateOf<K>>;
  return useStore<StoreApi<StateOf<K>>, R>(store, selector);
}
