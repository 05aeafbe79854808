import { describe, expect, it } from 'vitest';
import { segments } from './snippet';

describe('segments', () => {
  it('marks the terms between markers', () => {
    expect(segments('Put the **token** in the **keychain**')).toEqual([
      { text: 'Put the ', marked: false },
      { text: 'token', marked: true },
      { text: ' in the ', marked: false },
      { text: 'keychain', marked: true },
    ]);
  });

  it('keeps an unpaired marker as text and never produces HTML', () => {
    expect(segments('a **b** c ** d')).toEqual([
      { text: 'a ', marked: false },
      { text: 'b', marked: true },
      { text: ' c ** d', marked: false },
    ]);
    expect(segments('<img src=x>')).toEqual([{ text: '<img src=x>', marked: false }]);
  });
});
