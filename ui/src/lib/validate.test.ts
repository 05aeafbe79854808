// The add/edit form refuses what the core would refuse, before anything is sent.
import { describe, expect, it } from 'vitest';
import { emptyForm, formFromSpec, validate } from './validate';

describe('validate', () => {
  it('turns a stdio form into a spec, one argument per line', () => {
    const form = { ...emptyForm('always'), name: 'everything', command: ' npx ', args: '-y\n\n@scope/pkg@1.0\n', env: 'API_KEY=a=b\nDEBUG=1' };
    expect(validate(form)).toEqual({
      spec: { type: 'stdio', command: 'npx', args: ['-y', '@scope/pkg@1.0'], env: { API_KEY: 'a=b', DEBUG: '1' }, enabled: true, restart: 'always' },
    });
  });

  it('turns a remote form into a spec with headers', () => {
    const form = { ...emptyForm('on-failure'), name: 'r', kind: 'remote' as const, url: 'https://x.test/mcp', transport: 'sse' as const, headers: 'Authorization: Bearer t' };
    expect(validate(form)).toEqual({
      spec: { type: 'remote', url: 'https://x.test/mcp', transport: 'sse', headers: { Authorization: 'Bearer t' }, enabled: true, restart: 'on-failure' },
    });
  });

  it.each([
    [{ name: '' }, 'name'],
    [{ name: 'Bad Name' }, 'name'],
    [{ name: '-lead' }, 'name'],
    [{ name: 'x'.repeat(65) }, 'name'],
    [{ command: '   ' }, 'command'],
    [{ env: 'NOEQUALS' }, 'env'],
    [{ env: 'A=1\nA=2' }, 'env'],
  ])('refuses %o', (patch, field) => {
    const result = validate({ ...emptyForm('never'), name: 'ok', command: 'x', ...patch });
    expect('errors' in result && Object.keys(result.errors)).toEqual([field]);
  });

  it.each(['', 'not a url', 'ftp://x.test/'])('refuses the URL %j', (url) => {
    const result = validate({ ...emptyForm('never'), name: 'ok', kind: 'remote', url });
    expect('errors' in result && result.errors.url).toBeTruthy();
  });

  it('round-trips a spec through the edit form', () => {
    const spec = { type: 'stdio' as const, command: 'uvx', args: ['mcp-server-time'], env: { TZ: 'UTC' }, cwd: '/tmp', enabled: false, restart: 'never' as const };
    expect(validate(formFromSpec('time', spec))).toEqual({ spec });
  });

  it('keeps what the form does not show as text through an edit: secret names, lazy, per session', () => {
    const spec = {
      type: 'stdio' as const, command: 'npx', args: ['-y', '@example/github'], env: {}, enabled: true,
      restart: 'on-failure' as const, secrets: ['GITHUB_TOKEN'], lazy: true, perSession: true,
    };
    expect(validate(formFromSpec('github', spec))).toEqual({ spec });
    const remote = {
      type: 'remote' as const, url: 'https://example.test/mcp', transport: 'streamable-http' as const,
      headers: {}, enabled: true, restart: 'never' as const, secrets: ['Authorization'],
    };
    expect(validate(formFromSpec('remote', remote))).toEqual({ spec: remote });
  });
});
