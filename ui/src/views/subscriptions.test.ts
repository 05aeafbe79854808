// @vitest-environment jsdom
// Views that listen to the backend stop listening when they are left, also when the
// subscription is only confirmed after that (the listener must not outlive the view).
import { type Component, flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Backend, Unsubscribe } from '../lib/backend';
import { deferred, type FakeBackend, fakeBackend, settle } from '../test/fake-backend';
import Catalog from './Catalog.svelte';
import Hosts from './Hosts.svelte';

type Case = {
  view: string;
  subscribe: 'onInstallProgress' | 'onHostsDrift';
  render: (backend: Backend) => Record<string, unknown>;
  answers: Partial<Backend>;
};

function render<P extends Record<string, unknown>>(component: Component<P>, props: P) {
  const view = mount(component, { target: document.body, props });
  flushSync();
  return view;
}

const cases: Case[] = [
  {
    view: 'Catalog',
    subscribe: 'onInstallProgress',
    render: (backend) => render(Catalog, { backend, onOpenServers: () => {} }),
    answers: { catalogSearch: () => Promise.resolve([]) },
  },
  {
    view: 'Hosts',
    subscribe: 'onHostsDrift',
    render: (backend) => render(Hosts, { backend, servers: ['alpha'] }),
    answers: {
      hostsStatus: () => Promise.resolve([]),
      settings: () => Promise.resolve({ defaultRestart: 'on-failure', knowledgeBaseOffered: true, hostsOffered: true, hostsAutoReapply: false, lazyInstalls: true, idleStopSeconds: 600, callTimeoutSeconds: 120, serverCallTimeoutSeconds: {}, hostCallTimeoutSeconds: {}, hostViews: {}, quitStopsServers: true }),
    },
  },
];

afterEach(() => {
  document.body.innerHTML = '';
});

describe.each(cases)('$view view', ({ subscribe, render, answers }) => {
  it('unsubscribes when it is left', async () => {
    const unsubscribe = vi.fn<Unsubscribe>();
    const backend: FakeBackend = fakeBackend({ ...answers, [subscribe]: () => Promise.resolve(unsubscribe) });
    const view = render(backend);
    await settle();
    expect(backend[subscribe]).toHaveBeenCalledTimes(1);
    expect(unsubscribe).not.toHaveBeenCalled();
    unmount(view);
    expect(unsubscribe).toHaveBeenCalledTimes(1);
  });

  it('unsubscribes at once when the subscription arrives after it was left', async () => {
    const subscribing = deferred<Unsubscribe>();
    const backend = fakeBackend({ ...answers, [subscribe]: () => subscribing.promise });
    const view = render(backend);
    await settle();
    expect(backend[subscribe]).toHaveBeenCalledTimes(1);
    unmount(view);
    const unsubscribe = vi.fn<Unsubscribe>();
    subscribing.resolve(unsubscribe);
    await settle();
    expect(unsubscribe).toHaveBeenCalledTimes(1);
  });
});
