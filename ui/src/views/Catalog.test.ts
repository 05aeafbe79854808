// @vitest-environment jsdom
// The Catalog's last install step against a fake backend: it says where the server is now
// available, and for a connected host the install took over its tool limit, warns and hides the
// server from that host in one click (its other view settings kept).
import { mount, unmount } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import type { Availability } from '../lib/bindings/Availability';
import type { Settings } from '../lib/bindings/Settings';
import { fakeBackend, settle } from '../test/fake-backend';
import Catalog from './Catalog.svelte';

let view: Record<string, unknown> | undefined;
afterEach(() => {
  if (view) unmount(view);
  view = undefined;
  document.body.innerHTML = '';
});

const SETTINGS = {
  defaultRestart: 'on-failure',
  knowledgeBaseOffered: true,
  hostsOffered: true,
  hostsAutoReapply: false,
  lazyInstalls: true,
  hostViews: { cursor: { tools: { fx: { defaultAllow: true, allow: [], deny: ['hang'] } } } },
} as unknown as Settings;

describe('Catalog install', () => {
  it('warns of a host taken over its limit and hides the server from it on request', async () => {
    let saved: Settings | null = null;
    const over = (): Availability[] => [
      { host: 'claude-desktop', name: 'Claude Desktop', pickup: 'restart' },
      saved ? { host: 'cursor', name: 'Cursor', pickup: 'refresh' } : { host: 'cursor', name: 'Cursor', pickup: 'refresh', overBudget: '84 tools (it takes 80), ~6,000 tokens of definitions' },
    ];
    const backend = fakeBackend({
      catalogSearch: () =>
        Promise.resolve([{ name: 'io.example/big', title: 'Big', description: 'Many tools', version: '1.0.0', runtimes: ['node'], transports: ['stdio'], needsSecrets: false, source: 'bundled' }]),
      onInstallProgress: () => Promise.resolve(() => {}),
      installForm: () =>
        Promise.resolve({ server: { name: 'io.example/big', description: 'Many tools', version: '1.0.0' }, name: 'big', fields: [], commands: [], notes: [] }),
      install: () => Promise.resolve({ name: 'big', entry: 'io.example/big', version: '1.0.0', command: ['big'], tools: [], flags: [], notes: [], protocol: '2025-11-25' }),
      hostsAvailability: () => Promise.resolve(over()),
      settings: () => Promise.resolve(SETTINGS),
      saveSettings: (s) => {
        saved = s;
        return Promise.resolve();
      },
    });
    view = mount(Catalog, { target: document.body, props: { backend, onOpenServers: () => {} } });
    await settle();
    document.querySelector<HTMLButtonElement>('[data-testid="catalog-cards"] button.primary')?.click();
    await settle();
    document.querySelector<HTMLButtonElement>('[data-testid="install-go"]')?.click();
    await settle();
    expect(document.querySelector('[data-testid="install-available"]')?.textContent).toContain('Claude Desktop (restart Claude Desktop to see it), Cursor');
    const warnings = [...document.querySelectorAll('[data-testid="install-over-budget"]')];
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.textContent).toContain('Cursor now sees 84 tools (it takes 80)');

    warnings[0]?.querySelector<HTMLButtonElement>('[data-action="hide-from"]')?.click();
    await settle();
    expect(saved).not.toBeNull();
    const views = (saved as unknown as Settings).hostViews ?? {};
    expect(views.cursor?.hiddenServers).toEqual(['big']);
    expect(views.cursor?.tools?.fx?.deny).toEqual(['hang']);
    expect(views['claude-desktop']).toBeUndefined();
    expect(document.querySelectorAll('[data-testid="install-over-budget"]')).toHaveLength(0);
  });
});
