// The console's runs: what was typed, where it ran, and the outputs streamed back (console-output /
// console-done events). Outputs that arrive before the run is known (events can overtake the reply on IPC)
// wait in a small buffer.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ConsoleDoneEvent, ConsoleOutput, ConsoleOutputEvent } from '../../../electron/host-api/models';

export interface ConsoleEntry {
  localId: number;
  runId: string | null;
  kernelId: string;
  code: string;
  outputs: ConsoleOutput[];
  /** `marker`: not a run, a line in the history ("Kernel restarted"); its text is in `code`. */
  status: 'sending' | 'running' | 'ok' | 'error' | 'aborted' | 'failed' | 'marker';
  executionCount: number | null;
  error: string | null;
}

export interface ConsoleState {
  kernelId: string | null;
  draft: string;
  entries: ConsoleEntry[];
  history: string[];
  early: Record<string, { outputs: ConsoleOutput[]; done: ConsoleDoneEvent | null }>;
}

export interface ConsoleActions {
  selectKernel(id: string | null): void;
  setDraft(code: string): void;
  submitted(kernelId: string, code: string): number;
  started(localId: number, runId: string): void;
  failed(localId: number, message: string): void;
  output(e: ConsoleOutputEvent): void;
  done(e: ConsoleDoneEvent): void;
  marker(kernelId: string, text: string): void;
  clear(): void;
}

export type ConsoleStore = StoreApi<ConsoleState & ConsoleActions>;

const MAX_ENTRIES = 100;
const MAX_EARLY = 50;

export function createConsoleStore(): ConsoleStore {
  let nextLocal = 1;
  return createStore<ConsoleState & ConsoleActions>()((set) => ({
    kernelId: null,
    draft: '',
    entries: [],
    history: [],
    early: {},
    selectKernel: (id) => set({ kernelId: id }),
    setDraft: (code) => set({ draft: code }),
    submitted: (kernelId, code) => {
      const localId = nextLocal++;
      set((s) => ({
        entries: [
          ...s.entries.slice(-MAX_ENTRIES + 1),
          {
            localId,
            runId: null,
            kernelId,
            code,
            outputs: [],
            status: 'sending',
            executionCount: null,
            error: null,
          },
        ],
        history: s.history[s.history.length - 1] === code ? s.history : [...s.history.slice(-99), code],
      }));
      return localId;
    },
    started: (localId, runId) =>
      set((s) => {
        const early = s.early[runId];
        const rest = { ...s.early };
        delete rest[runId];
        return {
          early: rest,
          entries: s.entries.map((e) => {
            if (e.localId !== localId) return e;
            const withOutputs = {
              ...e,
              runId,
              status: 'running' as const,
              outputs: early ? early.outputs : [],
            };
            return early?.done
              ? { ...withOutputs, status: early.done.status, executionCount: early.done.executionCount }
              : withOutputs;
          }),
        };
      }),
    failed: (localId, message) =>
      set((s) => ({
        entries: s.entries.map((e) =>
          e.localId === localId ? { ...e, status: 'failed', error: message } : e,
        ),
      })),
    output: (ev) =>
      set((s) => {
        if (!s.entries.some((e) => e.runId === ev.runId)) {
          if (!s.entries.some((e) => e.status === 'sending')) return {};
          const prev = s.early[ev.runId] ?? { outputs: [], done: null };
          const early = {
            ...s.early,
            [ev.runId]: { ...prev, outputs: mergeOutput(prev.outputs, ev.output) },
          };
          const keys = Object.keys(early);
          if (keys.length > MAX_EARLY) delete early[keys[0]];
          return { early };
        }
        return {
          entries: s.entries.map((e) =>
            e.runId === ev.runId ? { ...e, outputs: mergeOutput(e.outputs, ev.output) } : e,
          ),
        };
      }),
    done: (ev) =>
      set((s) => {
        if (!s.entries.some((e) => e.runId === ev.runId)) {
          if (!s.entries.some((e) => e.status === 'sending')) return {};
          const prev = s.early[ev.runId] ?? { outputs: [], done: null };
          return { early: { ...s.early, [ev.runId]: { ...prev, done: ev } } };
        }
        return {
          entries: s.entries.map((e) =>
            e.runId === ev.runId ? { ...e, status: ev.status, executionCount: ev.executionCount } : e,
          ),
        };
      }),
    marker: (kernelId, text) =>
      set((s) => ({
        entries: [
          ...s.entries.slice(-MAX_ENTRIES + 1),
          {
            localId: nextLocal++,
            runId: null,
            kernelId,
            code: text,
            outputs: [],
            status: 'marker',
            executionCount: null,
            error: null,
          },
        ],
      })),
    clear: () => set({ entries: [], early: {} }),
  }));
}

/** Consecutive stream chunks of the same stream join into one output (as notebooks show them). */
export function mergeOutput(outputs: ConsoleOutput[], o: ConsoleOutput): ConsoleOutput[] {
  const last = outputs[outputs.length - 1];
  if (o.type === 'stream' && last?.type === 'stream' && last.name === o.name) {
    return [...outputs.slice(0, -1), { ...last, text: last.text + o.text }];
  }
  return [...outputs, o];
}
