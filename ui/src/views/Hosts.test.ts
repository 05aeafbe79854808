// @vitest-environment jsdom
// The Hosts view's gateway controls against a fake backend: Connect shows the change first (and
// warns when the host would be over its tool limit) and writes only on Write; a connected host
// shows its mode and budget.
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import type { Budget } from '../lib/bindings/Budget';
import type { ConnectPreview } from '../lib/bindings/ConnectPreview';
import type { HostStatus } from '../lib/bindings/HostStatus';
import { fakeBackend, settle } from '../test/fake-backend';
import Hosts from './Hosts.svelte';

const CURSOR: HostStatus = {
  id: 'cursor',
  name: 'Cursor',
  detected: true,
  detectedBy: '~/.cursor exists',
  files: [{ scope: 'user', path: '/home/u/.cursor/mcp.json', format: 'json', exists: true, entries: [] }],
};

function planned(written: boolean): ConnectPreview {
  return {
    preview: { host: 'cursor', path: CURSOR.files[0]!.path, diff: written ? '' : '+    "fx": {"url": "http://127.0.0.1:1/mcp/fx"}', changes: [{ name: 'fx', kind: 'add' }], skipped: [], notes: [], written },
    mode: 'per-server',
    reach: 'url',
    pickup: 'refresh',
  };
}

function budget(tools: number): Budget {
  return {
    host: 'cursor', tools, tokens: tools * 100, limits: { tools: 80, source: 'H2' }, tokenWarning: 20000, unknown: [], callsToday: 3, longNames: [],
    costs: [], hidden: [], suggestions: tools > 80 ? [{ server: 'fx', tool: 'big', tokens: 900, calls: 0 }] : [],
  };
}

let view: Record<string, unknown> | undefined;
afterEach(() => {
  if (view) unmount(view);
  view = undefined;
  document.body.innerHTML = '';
});

describe('Hosts view', () => {
  it('connects a host only after showing the change, warning when it would be over its limit', async () => {
    let connected = false;
    const backend = fakeBackend({
      hostsStatus: () => Promise.resolve([CURSOR]),
      hostsConnections: () => Promise.resolve(connected ? [{ host: 'cursor', mode: 'per-server', reach: 'url', path: '/x', connectedMs: 1 }] : []),
      settings: () => Promise.reject(new Error('no settings here')),
      onHostsDrift: () => Promise.resolve(() => {}),
      hostsConnect: (_host, _mode, dryRun) => {
        if (!dryRun) connected = true;
        return Promise.resolve(planned(!dryRun));
      },
      hostsBudget: () => Promise.resolve(budget(connected ? 12 : 95)),
    });
    view = mount(Hosts, { target: document.body, props: { backend, servers: ['fx'] } });
    await settle();
    document.querySelector<HTMLButtonElement>('[data-testid="host-connect"]')?.click();
    await settle();
    expect(backend.hostsConnect).toHaveBeenLastCalledWith('cursor', null, true);
    expect(document.querySelector('[data-testid="host-diff"]')?.textContent).toContain('"fx"');
    expect(document.querySelector('[data-testid="host-connect-over"]')?.textContent).toContain('95 tools of 80');
    expect(backend.hostsConnect).toHaveBeenCalledTimes(1);

    document.querySelector<HTMLButtonElement>('[data-testid="host-write"]')?.click();
    await settle();
    expect(backend.hostsConnect).toHaveBeenLastCalledWith('cursor', 'per-server', false);
    expect(document.querySelector('[data-testid="hosts-notice"]')?.textContent).toContain('Refresh its MCP servers');
    flushSync();
    expect(document.querySelector('[data-testid="host-connected"]')?.textContent).toContain('one entry per server');
    expect(document.querySelector('[data-testid="host-budget"]')?.textContent).toContain('12 tools of 80');
    expect(document.querySelector('[data-testid="host-budget"]')?.textContent).toContain('3 calls today');
  });

  it('offers the move to the gateway for entries it wrote the direct way', async () => {
    const direct: HostStatus = { ...CURSOR, files: [{ ...CURSOR.files[0]!, entries: [{ name: 'fx', state: 'in-sync', server: 'fx' }, { name: 'mine', state: 'theirs' }] }] };
    const backend = fakeBackend({
      hostsStatus: () => Promise.resolve([direct]),
      hostsConnections: () => Promise.resolve([]),
      settings: () => Promise.reject(new Error('no settings here')),
      onHostsDrift: () => Promise.resolve(() => {}),
    });
    view = mount(Hosts, { target: document.body, props: { backend, servers: ['fx'] } });
    await settle();
    expect(document.querySelector('[data-testid="host-migrate"]')?.textContent).toContain('1 entry Switchboard wrote make Cursor run its own copy');
    expect(document.querySelector('[data-testid="host-connect"]')?.textContent).toContain('Move to Switchboard');
  });

  it("opens the review of the host the tray asked to connect, writing nothing until Write", async () => {
    const backend = fakeBackend({
      hostsStatus: () => Promise.resolve([CURSOR]),
      hostsConnections: () => Promise.resolve([]),
      settings: () => Promise.reject(new Error('no settings here')),
      onHostsDrift: () => Promise.resolve(() => {}),
      hostsConnect: (_host, _mode, dryRun) => Promise.resolve(planned(!dryRun)),
      hostsBudget: () => Promise.resolve(budget(12)),
    });
    view = mount(Hosts, { target: document.body, props: { backend, servers: ['fx'], connect: 'cursor' } });
    await settle();
    expect(backend.hostsConnect).toHaveBeenCalledTimes(1);
    expect(backend.hostsConnect).toHaveBeenLastCalledWith('cursor', null, true);
    expect(document.querySelector('[data-testid="host-diff"]')?.textContent).toContain('"fx"');
  });

  it('asks before a tool turned on takes a host over its limit, and saves only on yes', async () => {
    const full: Budget = { ...budget(80), hidden: [{ server: 'fx', tool: 'big', tokens: 900, calls: 0 }] };
    const settings = {
      defaultRestart: 'on-failure' as const, knowledgeBaseOffered: true, hostsOffered: true, hostsAutoReapply: false, lazyInstalls: true,
      idleStopSeconds: 600, callTimeoutSeconds: 120, serverCallTimeoutSeconds: {}, hostCallTimeoutSeconds: {}, quitStopsServers: true,
      hostViews: { cursor: { tools: { fx: { defaultAllow: true, deny: ['big'] } } } },
    };
    const backend = fakeBackend({
      hostsStatus: () => Promise.resolve([CURSOR]),
      hostsConnections: () => Promise.resolve([{ host: 'cursor', mode: 'per-server', reach: 'url', path: '/x', connectedMs: 1 }]),
      settings: () => Promise.resolve(settings),
      saveSettings: () => Promise.resolve(),
      onHostsDrift: () => Promise.resolve(() => {}),
      hostsBudget: () => Promise.resolve(full),
    });
    view = mount(Hosts, { target: document.body, props: { backend, servers: ['fx'] } });
    await settle();
    document.querySelector<HTMLButtonElement>('[data-testid="host-edit-view"]')?.click();
    await settle();
    const big = () => document.querySelector<HTMLInputElement>('[data-testid="view-tool"][data-tool="fx:big"]');
    expect(big()?.checked).toBe(false);
    big()?.click();
    await settle();
    expect(document.querySelector('[data-testid="host-view-confirm"]')?.textContent?.replace(/\s+/g, ' ')).toContain('gives Cursor 81 tools; it takes 80');
    expect(big()?.checked).toBe(false);
    document.querySelector<HTMLButtonElement>('[data-testid="host-view-confirm-no"]')?.click();
    await settle();
    expect(backend.saveSettings).not.toHaveBeenCalled();

    big()?.click();
    await settle();
    document.querySelector<HTMLButtonElement>('[data-testid="host-view-confirm-yes"]')?.click();
    await settle();
    expect(backend.saveSettings).toHaveBeenCalledTimes(1);
    const saved = backend.saveSettings.mock.calls[0]?.[0];
    expect(saved?.hostViews?.cursor?.tools?.fx).toEqual({ defaultAllow: true, allow: [], deny: [] });
  });
});
