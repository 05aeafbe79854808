// TesterSession.refreshTraffic: the one function that brings a session's traffic up to date
// (polled now, pushed later) lists each message once, and drops answers for a closed session.
import { describe, expect, it } from 'vitest';
import { deferred, fakeBackend } from '../test/fake-backend';
import type { Opened } from './bindings/Opened';
import type { TrafficEntry } from './bindings/TrafficEntry';
import { TesterSession } from './tester.svelte';

function opened(id: number): Opened {
  return {
    id,
    label: `session ${id}`,
    pid: null,
    details: {
      transport: 'stdio',
      capabilities: {},
      serverInfo: null,
      protocolVersion: '2025-11-25',
      stateless: false,
      serverName: null,
      serverVersion: null,
      instructions: null,
    },
  };
}

function entry(seq: number): TrafficEntry {
  return { seq, direction: 'received', unixMs: seq, elapsedMs: seq, method: 'tools/list', id: seq, latencyMs: 1, error: false, message: {}, bytes: 1 };
}

describe('TesterSession.refreshTraffic', () => {
  it('lists each message once when refreshes overlap', async () => {
    const answers = [deferred<TrafficEntry[]>(), deferred<TrafficEntry[]>()];
    let asked = 0;
    const backend = fakeBackend({ testerTraffic: () => answers[asked++]!.promise });
    const tester = new TesterSession(backend);
    tester.opened = opened(1);
    const first = tester.refreshTraffic();
    const second = tester.refreshTraffic();
    expect(backend.testerTraffic.mock.calls).toEqual([
      [1, 0],
      [1, 0],
    ]);
    answers[0]!.resolve([entry(1), entry(2)]);
    answers[1]!.resolve([entry(1), entry(2), entry(3)]);
    await Promise.all([first, second]);
    expect(tester.traffic.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it("drops an answer for a session that was closed meanwhile, and asks from the last entry seen", async () => {
    const answer = deferred<TrafficEntry[]>();
    const backend = fakeBackend({ testerTraffic: () => answer.promise, testerClose: () => Promise.resolve() });
    const tester = new TesterSession(backend);
    tester.opened = opened(1);
    const refreshing = tester.refreshTraffic();
    await tester.disconnect();
    tester.opened = opened(2);
    answer.resolve([entry(1)]);
    await refreshing;
    expect(backend.testerClose).toHaveBeenCalledWith(1);
    expect(tester.traffic).toEqual([]);

    backend.testerTraffic.mockImplementation(() => Promise.resolve([entry(5), entry(6)]));
    await tester.refreshTraffic();
    backend.testerTraffic.mockImplementation(() => Promise.resolve([]));
    await tester.refreshTraffic();
    expect(backend.testerTraffic).toHaveBeenLastCalledWith(2, 6);
    expect(tester.traffic.map((e) => e.seq)).toEqual([5, 6]);
  });
});
