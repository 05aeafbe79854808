// @vitest-environment jsdom
// The Servers view against a fake backend: it lists what the backend has, and Start asks the
// backend to start that server.
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerEntry } from '../lib/bindings/ServerEntry';
import { freshStatus } from '../lib/events';
import { Store } from '../lib/store.svelte';
import { fakeBackend, settle } from '../test/fake-backend';
import Servers from './Servers.svelte';

function entry(name: string, type: 'stdio' | 'remote'): ServerEntry {
  const spec: ServerEntry['spec'] =
    type === 'stdio'
      ? { type: 'stdio', command: 'npx', args: ['-y', `@example/${name}`], enabled: true, restart: 'on-failure' }
      : { type: 'remote', url: `https://example.test/${name}/mcp`, transport: 'streamable-http', enabled: true, restart: 'never' };
  return { name, spec, status: freshStatus(name, spec) };
}

let view: Record<string, unknown> | undefined;
afterEach(() => {
  if (view) unmount(view);
  view = undefined;
  document.body.innerHTML = '';
});

describe('Servers view', () => {
  it('lists the servers the backend returns and starts one by name', async () => {
    const backend = fakeBackend({
      servers: () => Promise.resolve([entry('zeta', 'stdio'), entry('alpha', 'stdio'), entry('web', 'remote')]),
      start: (name) => Promise.resolve({ ...freshStatus(name, entry(name, 'stdio').spec), state: { kind: 'starting', attempt: 1 } }),
    });
    const store = new Store(backend);
    await store.reload();
    view = mount(Servers, { target: document.body, props: { store, backend, onShowLogs: () => {} } });
    flushSync();

    const rows = [...document.querySelectorAll<HTMLTableRowElement>('[data-testid="servers"] tbody tr')];
    expect(rows.map((r) => r.dataset.server)).toEqual(['alpha', 'web', 'zeta']);
    expect(rows[0]?.querySelector('.name')?.textContent).toBe('alpha');
    expect(rows[0]?.querySelector('.mono.small')?.textContent).toBe('npx -y @example/alpha');
    expect(rows[1]?.querySelector('.mono.small')?.textContent).toBe('https://example.test/web/mcp');
    // A remote server is not started by Switchboard.
    expect(rows[1]?.querySelector<HTMLButtonElement>('[data-action="start"]')?.disabled).toBe(true);

    const start = rows[2]?.querySelector<HTMLButtonElement>('[data-action="start"]');
    expect(start?.disabled).toBe(false);
    start?.click();
    expect(backend.start).toHaveBeenCalledTimes(1);
    expect(backend.start).toHaveBeenCalledWith('zeta');
    // Busy while the call is out, enabled again once it answered.
    flushSync();
    expect(start?.disabled).toBe(true);
    await settle();
    expect(start?.disabled).toBe(false);
    expect(backend.stop).not.toHaveBeenCalled();
  });

  it('shows which hosts reach each server through the gateway, kept current by events', async () => {
    const backend = fakeBackend({
      servers: () => Promise.resolve([entry('alpha', 'stdio'), entry('beta', 'stdio')]),
      gatewayTraffic: () => Promise.resolve([{ name: 'alpha', hosts: ['claude-code', 'cursor'], calls: 12, errors: 1, instances: 0 }]),
    });
    const store = new Store(backend);
    await store.reload();
    view = mount(Servers, { target: document.body, props: { store, backend, onShowLogs: () => {} } });
    flushSync();
    const hosts = (name: string) =>
      document.querySelector(`tr[data-server="${name}"] [data-testid="hosts"]`)?.textContent?.replace(/\s+/g, ' ').trim();
    expect(hosts('alpha')).toBe('claude-code, cursor 12 calls, 1 failed');
    expect(hosts('beta')).toBe('');
    store.apply([{ event: 'traffic', servers: [{ name: 'beta', hosts: ['zed'], calls: 1, errors: 0, instances: 0 }] }]);
    flushSync();
    expect(hosts('alpha')).toBe('');
    expect(hosts('beta')).toBe('zed 1 call');
  });

  it('says when a server cannot be shared, and how many host sessions have a process of it', async () => {
    const solo = entry('solo', 'stdio');
    solo.spec = { ...solo.spec, perSession: true };
    const backend = fakeBackend({ servers: () => Promise.resolve([solo, entry('alpha', 'stdio')]) });
    const store = new Store(backend);
    await store.reload();
    view = mount(Servers, { target: document.body, props: { store, backend, onShowLogs: () => {} } });
    flushSync();
    const note = (name: string) =>
      document.querySelector(`tr[data-server="${name}"] [data-testid="per-session"]`)?.textContent?.trim();
    expect(note('solo')).toBe('one process per host session');
    expect(note('alpha')).toBeUndefined();
    store.apply([{ event: 'traffic', servers: [{ name: 'solo', hosts: ['cursor', 'zed'], calls: 2, errors: 0, instances: 2 }] }]);
    flushSync();
    expect(note('solo')).toBe('one process per host session · 2 running');
  });

  it('lists servers without a gateway (another process owns them) with the column empty', async () => {
    const backend = fakeBackend({ servers: () => Promise.resolve([entry('alpha', 'stdio')]) });
    const store = new Store(backend);
    await store.reload();
    expect(store.error).toBeNull();
    expect(store.traffic).toEqual({});
  });

  it('shows the backend refusing an action', async () => {
    const backend = fakeBackend({
      servers: () => Promise.resolve([entry('alpha', 'stdio')]),
      start: () => Promise.reject({ code: 'spawn_failed', message: 'npx: not found' }),
    });
    const store = new Store(backend);
    await store.reload();
    view = mount(Servers, { target: document.body, props: { store, backend, onShowLogs: () => {} } });
    flushSync();
    document.querySelector<HTMLButtonElement>('tr[data-server="alpha"] [data-action="start"]')?.click();
    await settle();
    expect(document.querySelector('[data-testid="action-error"]')?.textContent).toBe('npx: not found');
  });
});
