// How a backend's lifecycle events change a registry entry: state, activity, restarts, a link that went
// down (a remote kernel out of reach, or a kernel that misses heartbeats but whose process runs), death.
// The registry supplies what to do next (emit, announce, mark dead); this module only decides.
import type { KernelEvent } from '../../provisioners/types';
import type { Entry } from './registry-types';

const ACTIVITY_EMIT_INTERVAL_MS = 1000;

export interface EntryEventHooks {
  updated(): void;
  activity(): void;
  restarting(): void;
  /** An automatic restart finished (a requested one is announced by the registry's restart()). */
  restarted(): void;
  died(reason: string): void;
}

export function applyKernelEvent(e: Entry, ev: KernelEvent, hooks: EntryEventHooks): void {
  switch (ev.type) {
    case 'state':
      if (e.executionState === 'dead') return;
      if (ev.state === 'dead') {
        // A backend may report the state before the 'dead' event with the real reason: let that win.
        queueMicrotask(() => hooks.died('kernel died'));
        return;
      }
      if (e.restartAnnounced && ev.state === 'starting') return;
      if (e.executionState === ev.state) return;
      e.executionState = ev.state === 'starting' ? 'idle' : ev.state;
      hooks.updated();
      return;
    case 'activity':
      e.lastActivity = ev.at;
      hooks.activity();
      return;
    case 'restarting':
      hooks.restarting();
      return;
    case 'restarted':
      if (!e.restarting) hooks.restarted();
      return;
    case 'disconnected':
      e.reason = `disconnected: ${ev.reason}`;
      e.link = 'disconnected';
      hooks.updated();
      return;
    case 'unresponsive':
      e.reason = ev.reason;
      e.link = 'not-answering';
      hooks.updated();
      return;
    case 'reconnected':
    case 'responsive':
      if (e.executionState !== 'dead') {
        e.reason = undefined;
        e.link = undefined;
      }
      hooks.updated();
      return;
    case 'dead':
      hooks.died(ev.reason);
      return;
  }
}

/** Activity is reported at most once a second per kernel, with a trailing report so the last one shows. */
export function throttleActivity(e: Entry, emitUpdated: () => void): void {
  if (e.activityTimer) return;
  const wait = e.lastEmit + ACTIVITY_EMIT_INTERVAL_MS - Date.now();
  if (wait <= 0) {
    emitUpdated();
    return;
  }
  e.activityTimer = setTimeout(() => {
    e.activityTimer = null;
    emitUpdated();
  }, wait);
  e.activityTimer.unref();
}
