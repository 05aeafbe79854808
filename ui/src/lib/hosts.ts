// What the first start offers to connect: the AI apps detected here, not connected yet, whose
// user file can be read (a file Switchboard could not parse is never written).
import type { Connection } from './bindings/Connection';
import type { HostStatus } from './bindings/HostStatus';

export function offerable(hosts: HostStatus[], connections: Connection[]): HostStatus[] {
  const connected = new Set(connections.map((c) => c.host));
  return hosts.filter((h) => {
    const user = h.files.find((f) => f.scope === 'user') ?? h.files[0];
    return h.detected && !connected.has(h.id) && !user?.error;
  });
}
