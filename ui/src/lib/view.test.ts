// The tray's view requests.
import { describe, expect, it } from 'vitest';
import { parseView } from './view';

describe('parseView', () => {
  it('splits a view and its server', () => {
    expect(parseView('logs:alpha')).toEqual(['logs', 'alpha']);
    expect(parseView('#logs:my.server')).toEqual(['logs', 'my.server']);
    expect(parseView('settings')).toEqual(['settings', '']);
    expect(parseView('')).toEqual(['', '']);
  });
});
