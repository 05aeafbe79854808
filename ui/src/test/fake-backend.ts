// A fake Backend for component tests: every method is a Vitest mock that rejects unless the test
// gives it an answer, so a view that calls something the test did not expect fails loudly.
import { flushSync } from 'svelte';
import { type Mock, vi } from 'vitest';
import type { Backend, Unsubscribe } from '../lib/backend';

// Every method of Backend, once: the type makes a missing or extra name a compile error.
const METHODS: Record<keyof Backend, true> = {
  ownerError: true,
  servers: true,
  gatewayTraffic: true,
  addServer: true,
  updateServer: true,
  removeServer: true,
  start: true,
  stop: true,
  restart: true,
  logs: true,
  settings: true,
  saveSettings: true,
  locations: true,
  autostart: true,
  setAutostart: true,
  onEvents: true,
  testerOpen: true,
  testerOffer: true,
  testerCall: true,
  testerCancel: true,
  testerRead: true,
  testerPrompt: true,
  testerTraffic: true,
  testerTrafficJsonLines: true,
  testerHistory: true,
  testerExport: true,
  testerClose: true,
  onTesterTraffic: true,
  onKbStatus: true,
  onNavigate: true,
  kbInfo: true,
  kbCall: true,
  kbSetFolders: true,
  hostsStatus: true,
  hostsPreview: true,
  hostsWrite: true,
  hostsUndo: true,
  hostsConnect: true,
  hostsDisconnect: true,
  hostsConnections: true,
  hostsImport: true,
  hostsBudget: true,
  hostsAvailability: true,
  onHostsDrift: true,
  catalogSearch: true,
  catalogRefresh: true,
  installForm: true,
  install: true,
  uninstall: true,
  onInstallProgress: true,
  pinsDiff: true,
  pinsApprove: true,
};

export type FakeBackend = { [K in keyof Backend]: Mock<Backend[K]> };

/** A Backend whose methods are `overrides`, and for the rest a mock that rejects naming itself. */
export function fakeBackend(overrides: Partial<Backend> = {}): FakeBackend {
  const fake: Record<string, Mock> = {};
  for (const name of Object.keys(METHODS) as Array<keyof Backend>) {
    const given = overrides[name] as ((...args: never[]) => unknown) | undefined;
    fake[name] = vi.fn(given ?? (() => Promise.reject(new Error(`the fake backend was not given ${name}`))));
  }
  return fake as unknown as FakeBackend;
}

/** A promise the test settles when it chooses. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A subscription whose unsubscribe the test can check. */
export function subscription(): { unsubscribe: Mock<Unsubscribe>; subscribe: () => Promise<Unsubscribe> } {
  const unsubscribe = vi.fn<Unsubscribe>();
  return { unsubscribe, subscribe: () => Promise.resolve(unsubscribe) };
}

/** Lets pending promise callbacks run (a fake's answers, the view's code after its awaits), then
 * applies the state changes they made to the DOM. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) await Promise.resolve();
  flushSync();
}
