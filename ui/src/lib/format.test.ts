// Durations, sizes and state labels as people read them.
import { describe, expect, it } from 'vitest';
import { bytes, duration, stateLabel } from './format';

describe('format', () => {
  it('durations', () => {
    expect(duration(0)).toBe('0s');
    expect(duration(59_999)).toBe('59s');
    expect(duration(61_000)).toBe('1m 01s');
    expect(duration(3_600_000 * 2 + 60_000 * 5)).toBe('2h 05m');
    expect(duration(86_400_000 * 3 + 3_600_000)).toBe('3d 01h');
    expect(duration(-5)).toBe('0s');
  });

  it('sizes', () => {
    expect(bytes(2048)).toBe('2 KiB');
    expect(bytes(30 * 1048576)).toBe('30.0 MiB');
    expect(bytes(3 * 1073741824)).toBe('3.00 GiB');
  });

  it('state labels', () => {
    expect(stateLabel({ kind: 'backing_off', attempt: 2, until_ms: 5_500 }, 1_000)).toBe('restarting in 5s');
    expect(stateLabel({ kind: 'starting', attempt: 3 }, 0)).toBe('starting (attempt 3)');
    expect(stateLabel({ kind: 'idle' }, 0)).toBe('idle — starts on first call');
    expect(stateLabel({ kind: 'failed', reason: 'x' }, 0)).toBe('failed');
  });
});
