// A Lifetime releases what it holds when it ends, including subscriptions that arrive later.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { deferred } from '../test/fake-backend';
import type { Unsubscribe } from './backend';
import { Lifetime } from './lifetime';

beforeEach(() => vi.useFakeTimers());
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('Lifetime', () => {
  it('runs every release once when it ends, and at once for what is added afterwards', () => {
    const life = new Lifetime();
    const a = vi.fn();
    const b = vi.fn();
    life.add(a);
    const early = life.add(b);
    early();
    early();
    expect(b).toHaveBeenCalledTimes(1);
    expect(a).not.toHaveBeenCalled();
    expect(life.ended).toBe(false);

    life.end();
    life.end();
    expect(life.ended).toBe(true);
    expect(a).toHaveBeenCalledTimes(1);
    expect(b).toHaveBeenCalledTimes(1);

    const late = vi.fn();
    life.add(late);
    expect(late).toHaveBeenCalledTimes(1);
  });

  it('unsubscribes a subscription that arrives after it ended', async () => {
    const life = new Lifetime();
    const subscribing = deferred<Unsubscribe>();
    const held = life.hold(subscribing.promise);
    life.end();
    const unsubscribe = vi.fn();
    subscribing.resolve(unsubscribe);
    await held;
    expect(unsubscribe).toHaveBeenCalledTimes(1);
  });

  it('unsubscribes a subscription that arrived before it ended only when it ends', async () => {
    const life = new Lifetime();
    const unsubscribe = vi.fn();
    await life.hold(Promise.resolve(unsubscribe));
    expect(unsubscribe).not.toHaveBeenCalled();
    life.end();
    expect(unsubscribe).toHaveBeenCalledTimes(1);
  });

  it('stops its intervals and pending timeouts when it ends', () => {
    const life = new Lifetime();
    const tick = vi.fn();
    const fire = vi.fn();
    life.interval(tick, 100);
    life.timeout(fire, 250);
    vi.advanceTimersByTime(200);
    expect(tick).toHaveBeenCalledTimes(2);
    life.end();
    vi.advanceTimersByTime(1000);
    expect(tick).toHaveBeenCalledTimes(2);
    expect(fire).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('forgets a timeout that fired or was cancelled', () => {
    const life = new Lifetime();
    const fire = vi.fn();
    life.timeout(fire, 10);
    const cancel = life.timeout(fire, 20);
    vi.advanceTimersByTime(10);
    expect(fire).toHaveBeenCalledTimes(1);
    cancel();
    vi.advanceTimersByTime(100);
    expect(fire).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
    // Nothing is left to release: ending runs no stale clear.
    const spy = vi.spyOn(globalThis, 'clearTimeout');
    life.end();
    expect(spy).not.toHaveBeenCalled();
  });
});
