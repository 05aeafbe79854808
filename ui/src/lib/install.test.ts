import { describe, expect, it } from 'vitest';
import type { Field } from './bindings/Field';
import { answersOf, initialValues, problems } from './install';

const field = (over: Partial<Field>): Field => ({
  key: 'K', kind: 'env', required: false, secret: false, choices: [], format: 'string', repeated: false, ...over,
});

describe('install form', () => {
  const dir = field({ key: 'allowed_directory', kind: 'argument', required: true, format: 'filepath', repeated: true });
  const token = field({ key: 'API_KEY', required: true, secret: true });
  const mode = field({ key: 'mode', choices: ['fast', 'safe'], default: 'safe' });
  const port = field({ key: 'PORT', format: 'number' });

  it('starts from defaults and leaves empty optional fields out', () => {
    const values = initialValues([dir, token, mode, port]);
    expect(values).toEqual({ allowed_directory: '', API_KEY: '', mode: 'safe', PORT: '' });
    expect(answersOf([mode, port], values)).toEqual([['mode', 'safe']]);
  });

  it('gives a repeated field one answer per non-empty line', () => {
    expect(answersOf([dir], { allowed_directory: '/a\n\n  /b  \n' })).toEqual([
      ['allowed_directory', '/a'],
      ['allowed_directory', '/b'],
    ]);
  });

  it('names what is wrong, field by field', () => {
    const found = problems([dir, token, mode, port], {
      allowed_directory: 'relative/dir', API_KEY: '', mode: 'turbo', PORT: 'eighty',
    });
    expect(found).toEqual({
      allowed_directory: 'An absolute path', API_KEY: 'Required', mode: 'One of fast, safe', PORT: 'A number',
    });
    expect(problems([dir, token], { allowed_directory: '/srv/docs', API_KEY: 'k' })).toEqual({});
    // The backend sends absent defaults as null.
    const fromWire = { ...token, default: null } as unknown as Field;
    expect(problems([fromWire], { API_KEY: '' })).toEqual({ API_KEY: 'Required' });
  });
});
