// @vitest-environment jsdom
// The Tester view against a fake backend: connecting opens a session and shows its tools, the
// traffic is polled while connected, and leaving the view — also while the session is still
// opening — closes the session and stops the polling.
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Offer } from '../lib/bindings/Offer';
import type { Opened } from '../lib/bindings/Opened';
import type { TrafficEntry } from '../lib/bindings/TrafficEntry';
import { Store } from '../lib/store.svelte';
import { deferred, fakeBackend, settle } from '../test/fake-backend';
import Tester from './Tester.svelte';

const opened: Opened = {
  id: 3,
  label: 'sb-fixture ok',
  pid: 99,
  details: {
    transport: 'stdio',
    capabilities: {},
    serverInfo: null,
    protocolVersion: '2026-07-28',
    stateless: true,
    serverName: 'sb-fixture',
    serverVersion: '0.1.0',
    instructions: null,
  },
};
const offer: Offer = {
  tools: [
    { name: 'echo', inputSchema: { type: 'object', properties: { message: { type: 'string' } } } },
    { name: 'ship', inputSchema: { type: 'object' } },
  ],
  resources: [],
  templates: [],
  prompts: [],
  errors: [],
  flags: [],
};

function traffic(seq: number, method: string): TrafficEntry {
  return { seq, direction: 'sent', unixMs: seq, elapsedMs: seq, method, id: seq, latencyMs: null, error: false, message: {}, bytes: 10 };
}

let view: Record<string, unknown> | undefined;
beforeEach(() => vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] }));
afterEach(() => {
  if (view) unmount(view);
  view = undefined;
  document.body.innerHTML = '';
  vi.useRealTimers();
});

function render(backend: ReturnType<typeof fakeBackend>) {
  view = mount(Tester, { target: document.body, props: { backend, store: new Store(backend) } });
  flushSync();
}

function connectToCommand(line: string) {
  document.querySelector<HTMLInputElement>('input[type="radio"][value="command"]')?.click();
  flushSync();
  const command = document.querySelector<HTMLInputElement>('#t-command');
  if (!command) throw new Error('no command field');
  command.value = line;
  command.dispatchEvent(new Event('input', { bubbles: true }));
  flushSync();
  document.querySelector<HTMLButtonElement>('[data-testid="connect"]')?.click();
}

describe('Tester view', () => {
  it('connects, shows the tools, reads the traffic when it is pushed, and closes the session when left', async () => {
    let pushed: ((id: number) => void) | undefined;
    const unsubscribe = vi.fn();
    const backend = fakeBackend({
      testerOpen: () => Promise.resolve(opened),
      testerOffer: () => Promise.resolve(offer),
      testerTraffic: (_id, after) =>
        Promise.resolve(
          after === 0 ? [traffic(1, 'server/discover'), traffic(2, 'tools/list')] : after === 2 ? [traffic(3, 'ping')] : [],
        ),
      testerClose: () => Promise.resolve(),
      onTesterTraffic: (handler) => {
        pushed = handler;
        return Promise.resolve(unsubscribe);
      },
    });
    render(backend);
    connectToCommand('sb-fixture ok --tag "two words"');
    await settle();

    expect(backend.testerOpen).toHaveBeenCalledWith(
      { kind: 'command', command: 'sb-fixture', args: ['ok', '--tag', 'two words'], env: {}, cwd: null },
      null,
      60,
    );
    expect(document.querySelector('[data-testid="negotiated"]')?.textContent).toBe('2026-07-28 · stateless · stdio');
    expect([...document.querySelectorAll<HTMLButtonElement>('button[data-tool]')].map((b) => b.dataset.tool)).toEqual(['echo', 'ship']);
    expect(document.querySelector('[data-testid="tab-traffic"]')?.textContent).toBe('Traffic (2)');

    // Nothing is asked on a timer; a push for another session is not ours; ours is read.
    const reads = backend.testerTraffic.mock.calls.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(backend.testerTraffic.mock.calls.length).toBe(reads);
    pushed?.(9);
    await settle();
    expect(backend.testerTraffic.mock.calls.length).toBe(reads);
    pushed?.(3);
    await settle();
    expect(backend.testerTraffic).toHaveBeenLastCalledWith(3, 2);
    expect(document.querySelector('[data-testid="tab-traffic"]')?.textContent).toBe('Traffic (3)');

    unmount(view!);
    view = undefined;
    await settle();
    expect(backend.testerClose).toHaveBeenCalledWith(3);
    expect(unsubscribe).toHaveBeenCalledTimes(1);
    const after = backend.testerTraffic.mock.calls.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(backend.testerTraffic.mock.calls.length).toBe(after);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('closes a session that opens after the view was left, and asks it for nothing', async () => {
    const opening = deferred<Opened>();
    const backend = fakeBackend({ testerOpen: () => opening.promise, testerClose: () => Promise.resolve() });
    render(backend);
    connectToCommand('sb-fixture ok');
    await settle();
    expect(backend.testerOpen).toHaveBeenCalledTimes(1);
    unmount(view!);
    view = undefined;

    opening.resolve(opened);
    await settle();
    expect(backend.testerClose).toHaveBeenCalledWith(3);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(backend.testerOffer).not.toHaveBeenCalled();
    expect(backend.testerTraffic).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('shows the connect form as it was after Disconnect', async () => {
    const backend = fakeBackend({
      testerOpen: () => Promise.resolve(opened),
      testerOffer: () => Promise.resolve(offer),
      testerTraffic: () => Promise.resolve([]),
      testerClose: () => Promise.resolve(),
      onTesterTraffic: () => Promise.resolve(unsubscribe),
    });
    const unsubscribe = vi.fn();
    render(backend);
    connectToCommand('sb-fixture ok');
    await settle();
    [...document.querySelectorAll('button')].find((b) => b.textContent === 'Disconnect')?.click();
    await settle();
    expect(backend.testerClose).toHaveBeenCalledWith(3);
    expect(document.querySelector('[data-testid="negotiated"]')).toBeNull();
    expect(document.querySelector<HTMLInputElement>('#t-command')?.value).toBe('sb-fixture ok');
    expect(unsubscribe).toHaveBeenCalledTimes(1);
    const polls = backend.testerTraffic.mock.calls.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(backend.testerTraffic.mock.calls.length).toBe(polls);
    expect(vi.getTimerCount()).toBe(0);
  });
});
