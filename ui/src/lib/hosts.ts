// What the first start offers to connect: the AI apps detected here, not connected yet, whose
// user file can be read (a file Switchboard could not parse is never written).
import type { Connection } from './bindings/Connection';
import type { HostStatus } from './bindings/HostStatus';
import type { Settings } from './bindings/Settings';

export function offerable(hosts: HostStatus[], connections: Connection[]): HostStatus[] {
  const connected = new Set(connections.map((c) => c.host));
  return hosts.filter((h) => {
    const user = h.files.find((f) => f.scope === 'user') ?? h.files[0];
    return h.detected && !connected.has(h.id) && !user?.error;
  });
}

/** `settings` with `server` hidden from `host` (its other view settings kept). */
export function withServerHidden(settings: Settings, host: string, server: string): Settings {
  const views = { ...(settings.hostViews ?? {}) };
  const view = views[host] ?? {};
  const hidden = (view.hiddenServers ?? []).filter((s) => s !== server);
  views[host] = { ...view, hiddenServers: [...hidden, server] };
  return { ...settings, hostViews: views };
}
