// Formatting for people: durations, sizes, states.
import type { ServerState } from './bindings/ServerState';

export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d ${String(Math.floor((s % 86400) / 3600)).padStart(2, '0')}h`;
}

export function bytes(n: number): string {
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1048576).toFixed(1)} MiB`;
  return `${(n / 1073741824).toFixed(2)} GiB`;
}

/** The label a state gets in the UI. */
export function stateLabel(state: ServerState, now: number): string {
  switch (state.kind) {
    case 'backing_off':
      return `restarting in ${Math.max(0, Math.ceil((state.until_ms - now) / 1000))}s`;
    case 'starting':
      return state.attempt > 1 ? `starting (attempt ${state.attempt})` : 'starting';
    case 'idle':
      return 'idle — starts on first call';
    default:
      return state.kind;
  }
}

export function time(ms: number): string {
  const d = new Date(ms);
  return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}
