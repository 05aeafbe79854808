// applyEvent keeps the UI's picture of the servers in step with the core's events.
import { describe, expect, it } from 'vitest';
import type { ServerSpec } from './bindings/ServerSpec';
import { appendLog, applyEvent, filterLines, type Servers } from './events';

const spec: ServerSpec = { type: 'stdio', command: 'npx', args: ['-y', 'x'], enabled: true, restart: 'on-failure' };

describe('applyEvent', () => {
  it('adds, updates state and stats, and removes servers', () => {
    const servers: Servers = {};
    expect(applyEvent(servers, { event: 'server_added', name: 'a', spec })).toBe(true);
    expect(servers.a?.status.state).toEqual({ kind: 'stopped' });
    expect(servers.a?.status.transport).toBe('stdio');

    applyEvent(servers, { event: 'state_changed', name: 'a', state: { kind: 'running', pid: 42, since_ms: 1 }, at_ms: 1 });
    expect(servers.a?.status.state).toEqual({ kind: 'running', pid: 42, since_ms: 1 });
    applyEvent(servers, { event: 'stats', name: 'a', stats: { cpu_percent: 1.5, rss_bytes: 1024, processes: 2 } });
    expect(servers.a?.status.stats?.rss_bytes).toBe(1024);

    expect(servers.a?.status.tools_changed).toBe(false);
    applyEvent(servers, { event: 'tools_changed', name: 'a', changed: true });
    expect(servers.a?.status.tools_changed).toBe(true);
    applyEvent(servers, { event: 'tools_changed', name: 'a', changed: false });
    expect(servers.a?.status.tools_changed).toBe(false);

    applyEvent(servers, { event: 'state_changed', name: 'a', state: { kind: 'stopped' }, at_ms: 2 });
    expect(servers.a?.status.stats).toBeNull();
    applyEvent(servers, { event: 'stats', name: 'a', stats: { cpu_percent: 1, rss_bytes: 1, processes: 1 } });
    expect(servers.a?.status.stats).toBeNull();

    expect(applyEvent(servers, { event: 'server_removed', name: 'a' })).toBe(true);
    expect(servers).toEqual({});
  });

  it('applies a changed definition without losing the live state', () => {
    const servers: Servers = {};
    applyEvent(servers, { event: 'server_added', name: 'a', spec });
    applyEvent(servers, { event: 'state_changed', name: 'a', state: { kind: 'running', pid: 7, since_ms: 0 }, at_ms: 0 });
    applyEvent(servers, { event: 'server_changed', name: 'a', spec: { ...spec, restart: 'never', enabled: false } });
    expect(servers.a?.status.restart).toBe('never');
    expect(servers.a?.status.enabled).toBe(false);
    expect(servers.a?.status.state.kind).toBe('running');
  });

  it('shows a lazy server idle until it runs, as the supervisor has it', () => {
    const servers: Servers = {};
    applyEvent(servers, { event: 'server_added', name: 'lazy', spec: { ...spec, lazy: true } });
    expect(servers.lazy?.status.state).toEqual({ kind: 'idle' });
    expect(servers.lazy?.status.lazy).toBe(true);
    applyEvent(servers, { event: 'server_added', name: 'off', spec: { ...spec, lazy: true, enabled: false } });
    expect(servers.off?.status.state).toEqual({ kind: 'stopped' });
    applyEvent(servers, { event: 'server_changed', name: 'lazy', spec: { ...spec, lazy: false } });
    expect(servers.lazy?.status.lazy).toBe(false);
  });

  it('ignores events for servers it does not know', () => {
    const servers: Servers = {};
    expect(applyEvent(servers, { event: 'state_changed', name: 'ghost', state: { kind: 'stopped' }, at_ms: 0 })).toBe(false);
    expect(servers).toEqual({});
  });
});

describe('logs', () => {
  it('keeps a bounded tail and filters case-insensitively', () => {
    const lines = [] as Parameters<typeof appendLog>[0];
    for (let i = 0; i < 10; i++) appendLog(lines, { at_ms: i, source: 'stderr', text: `Line ${i}` }, 4);
    expect(lines.map((l) => l.text)).toEqual(['Line 6', 'Line 7', 'Line 8', 'Line 9']);
    expect(filterLines(lines, 'line 8').map((l) => l.at_ms)).toEqual([8]);
    expect(filterLines(lines, '  ')).toHaveLength(4);
  });
});
