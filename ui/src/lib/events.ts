// Applying core events to the UI's picture of the servers. Pure functions, unit-tested.
import type { Event } from './bindings/Event';
import type { LogLine } from './bindings/LogLine';
import type { ServerEntry } from './bindings/ServerEntry';
import type { ServerSpec } from './bindings/ServerSpec';
import type { ServerStatus } from './bindings/ServerStatus';

export type Servers = Record<string, ServerEntry>;

/** The status of a server that was just registered. */
export function freshStatus(name: string, spec: ServerSpec): ServerStatus {
  return {
    name,
    enabled: spec.enabled,
    transport: spec.type === 'stdio' ? 'stdio' : spec.transport,
    restart: spec.restart,
    lazy: spec.lazy ?? false,
    perSession: spec.perSession ?? false,
    instances: 0,
    // As the supervisor has it: an enabled lazy server waits idle for a host's first call.
    state: spec.type === 'stdio' && spec.enabled && spec.lazy ? { kind: 'idle' } : { kind: 'stopped' },
    restarts: 0,
    stats: null,
    binary: null,
    found_via: null,
    protocol: null,
    last_exit: null,
    tools_changed: false,
  };
}

/** Applies `event` to `servers` in place. Returns true if the server list changed shape. */
export function applyEvent(servers: Servers, event: Event): boolean {
  switch (event.event) {
    case 'server_added':
      servers[event.name] = { name: event.name, spec: event.spec, status: freshStatus(event.name, event.spec) };
      return true;
    case 'server_changed': {
      const entry = servers[event.name];
      if (entry) {
        entry.spec = event.spec;
        entry.status.enabled = event.spec.enabled;
        entry.status.restart = event.spec.restart;
        entry.status.lazy = event.spec.lazy ?? false;
      } else {
        servers[event.name] = { name: event.name, spec: event.spec, status: freshStatus(event.name, event.spec) };
      }
      return true;
    }
    case 'server_removed':
      delete servers[event.name];
      return true;
    case 'state_changed': {
      const entry = servers[event.name];
      if (!entry) return false;
      entry.status.state = event.state;
      if (event.state.kind !== 'running') entry.status.stats = null;
      return false;
    }
    case 'stats': {
      const entry = servers[event.name];
      if (entry && entry.status.state.kind === 'running') entry.status.stats = event.stats;
      return false;
    }
    case 'tools_changed': {
      const entry = servers[event.name];
      if (entry) entry.status.tools_changed = event.changed;
      return false;
    }
    case 'log':
      return false;
    // Not about the server list: the Hosts and Catalog views take these (see `Backend`), and
    // the store keeps the gateway's traffic beside the list.
    case 'host_drift':
    case 'install_progress':
    case 'traffic':
      return false;
  }
}

/** A bounded per-server log buffer, newest last. */
export function appendLog(lines: LogLine[], line: LogLine, max = 2000): void {
  lines.push(line);
  if (lines.length > max) lines.splice(0, lines.length - max);
}

/** Lines matching `filter` (case-insensitive substring; empty matches everything). */
export function filterLines(lines: LogLine[], filter: string): LogLine[] {
  const needle = filter.trim().toLowerCase();
  return needle ? lines.filter((l) => l.text.toLowerCase().includes(needle)) : lines;
}
