import { describe, expect, it } from 'vitest';
import type { HostStatus } from './bindings/HostStatus';
import { offerable } from './hosts';

function host(id: string, detected: boolean, error?: string): HostStatus {
  return {
    id,
    name: id,
    detected,
    files: [{ scope: 'user', path: `/home/u/${id}.json`, format: 'json', exists: true, entries: [], ...(error ? { error } : {}) }],
  };
}

describe('the first start offers', () => {
  it('the detected hosts that are not connected and whose file can be read', () => {
    const hosts = [host('cursor', true), host('zed', false), host('claude-desktop', true), host('vscode', true, 'line 3: expected a value')];
    const connections = [{ host: 'claude-desktop', mode: 'per-server' as const, reach: 'command' as const, path: '/x', connectedMs: 1 }];
    expect(offerable(hosts, connections).map((h) => h.id)).toEqual(['cursor']);
  });
});
