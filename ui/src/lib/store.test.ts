// The store's subscription and clock end with `stop`, even when it comes while `start` awaits.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { deferred, fakeBackend } from '../test/fake-backend';
import type { Unsubscribe } from './backend';
import { Store } from './store.svelte';

beforeEach(() => vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] }));
afterEach(() => vi.useRealTimers());

describe('Store', () => {
  it('holds the event subscription and the clock until stopped', async () => {
    const unsubscribe = vi.fn<Unsubscribe>();
    const backend = fakeBackend({ onEvents: () => Promise.resolve(unsubscribe), servers: () => Promise.resolve([]) });
    const store = new Store(backend);
    await store.start();
    expect(store.loaded).toBe(true);
    expect(vi.getTimerCount()).toBe(1);
    store.stop();
    expect(unsubscribe).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('releases a subscription that arrives after it was stopped, and loads nothing', async () => {
    const subscribing = deferred<Unsubscribe>();
    const backend = fakeBackend({ onEvents: () => subscribing.promise, servers: () => Promise.resolve([]) });
    const store = new Store(backend);
    const starting = store.start();
    store.stop();
    const unsubscribe = vi.fn<Unsubscribe>();
    subscribing.resolve(unsubscribe);
    await starting;
    expect(unsubscribe).toHaveBeenCalledTimes(1);
    expect(backend.servers).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });
});
