// @vitest-environment jsdom
// The Knowledge base view against a fake backend: it shows the index's status, refreshes it when
// the app pushes (the index wrote its status, the server changed state) and never on a timer, and
// leaving it — even before its first answers arrive — drops its subscriptions.
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Event } from '../lib/bindings/Event';
import type { KbInfo } from '../lib/bindings/KbInfo';
import type { ServerSpec } from '../lib/bindings/ServerSpec';
import type { KbIndexStatus, KbSearchResult } from '../lib/kb';
import { freshStatus } from '../lib/events';
import { deferred, fakeBackend, settle } from '../test/fake-backend';
import KnowledgeBase from './KnowledgeBase.svelte';

const spec: ServerSpec = { type: 'stdio', command: 'switchboard', args: ['kb', 'serve'], enabled: true, restart: 'on-failure' };
const info: KbInfo = {
  registered: true,
  folders: ['/data/notes'],
  status: { ...freshStatus('knowledge-base', spec), state: { kind: 'running', pid: 7, since_ms: 0 } },
};
const indexStatus: KbIndexStatus = {
  state: 'ready',
  files_done: 3,
  files_total: 3,
  documents: 3,
  sections: 12,
  skipped: [],
  skipped_total: 0,
  roots: [{ label: 'notes', path: '/data/notes' }],
  index_dir: '/data/index',
  index_bytes: 4096,
  last_sync_ms: 20,
  updated_at_ms: 1,
  watching: true,
  error: null,
};

let view: Record<string, unknown> | undefined;
beforeEach(() => vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] }));
afterEach(() => {
  if (view) unmount(view);
  view = undefined;
  document.body.innerHTML = '';
  vi.useRealTimers();
});

describe('Knowledge base view', () => {
  it('shows the index status and refreshes it when the app pushes, until the view is left', async () => {
    let statusPushed: (() => void) | undefined;
    let eventsPushed: ((events: Event[]) => void) | undefined;
    const unsubscribeStatus = vi.fn();
    const unsubscribeEvents = vi.fn();
    const backend = fakeBackend({
      kbInfo: () => Promise.resolve(info),
      kbCall: (tool) => (tool === 'index_status' ? Promise.resolve(indexStatus) : Promise.reject(new Error(tool))),
      onKbStatus: (handler) => {
        statusPushed = handler;
        return Promise.resolve(unsubscribeStatus);
      },
      onEvents: (handler) => {
        eventsPushed = handler;
        return Promise.resolve(unsubscribeEvents);
      },
    });
    view = mount(KnowledgeBase, { target: document.body, props: { backend } });
    await settle();
    expect(document.querySelector('[data-testid="kb-server-state"]')?.textContent?.trim()).toBe('server running');
    expect(document.querySelector('[data-testid="kb-index-state"]')?.textContent).toBe('index ready');
    expect(document.querySelector('[data-testid="kb-documents"]')?.textContent).toBe('3 documents');
    expect(backend.kbInfo).toHaveBeenCalledTimes(1);
    expect(backend.kbCall).toHaveBeenCalledWith('index_status', {});

    // Nothing on a timer.
    await vi.advanceTimersByTimeAsync(15_000);
    expect(backend.kbInfo).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
    // The index wrote its status: both are read again.
    statusPushed?.();
    await settle();
    expect(backend.kbInfo).toHaveBeenCalledTimes(2);
    expect(backend.kbCall).toHaveBeenCalledTimes(2);
    // Another server's state change is not ours; the built-in server's is.
    eventsPushed?.([{ event: 'state_changed', name: 'other', state: { kind: 'stopped' }, at_ms: 1 }]);
    await settle();
    expect(backend.kbInfo).toHaveBeenCalledTimes(2);
    eventsPushed?.([{ event: 'state_changed', name: 'knowledge-base', state: { kind: 'stopped' }, at_ms: 2 }]);
    await settle();
    expect(backend.kbInfo).toHaveBeenCalledTimes(3);

    unmount(view);
    view = undefined;
    expect(unsubscribeStatus).toHaveBeenCalledTimes(1);
    expect(unsubscribeEvents).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps no subscription when it is left before its first answer', async () => {
    const first = deferred<KbInfo>();
    const subscribing = deferred<() => void>();
    const unsubscribe = vi.fn();
    const backend = fakeBackend({
      kbInfo: () => first.promise,
      kbCall: () => Promise.resolve(indexStatus),
      onKbStatus: () => subscribing.promise,
      onEvents: () => Promise.resolve(unsubscribe),
    });
    view = mount(KnowledgeBase, { target: document.body, props: { backend } });
    flushSync();
    expect(backend.kbInfo).toHaveBeenCalledTimes(1);
    unmount(view);
    view = undefined;

    first.resolve(info);
    subscribing.resolve(unsubscribe);
    await settle();
    // Both subscriptions, the one confirmed after the view was left included, are dropped.
    expect(unsubscribe).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(backend.kbInfo).toHaveBeenCalledTimes(1);
    // Nor does the answer that came late lead to a status call.
    expect(backend.kbCall).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps the newest answer when an older refresh answers last', async () => {
    // The server restarts on new folders: the refresh pushed by "starting" is still waiting for
    // its answer when the one pushed by "running" has already shown the index. The late answer
    // (server starting) must not blank the status.
    const starting: KbInfo = { ...info, status: { ...info.status!, state: { kind: 'starting', attempt: 1 } } };
    const answers = [deferred<KbInfo>(), deferred<KbInfo>(), deferred<KbInfo>()];
    let calls = 0;
    let eventsPushed: ((events: Event[]) => void) | undefined;
    const backend = fakeBackend({
      kbInfo: () => answers[calls++]!.promise,
      kbCall: () => Promise.resolve(indexStatus),
      onKbStatus: () => Promise.resolve(() => {}),
      onEvents: (handler) => {
        eventsPushed = handler;
        return Promise.resolve(() => {});
      },
    });
    view = mount(KnowledgeBase, { target: document.body, props: { backend } });
    answers[0]!.resolve(info);
    await settle();
    expect(document.querySelector('[data-testid="kb-documents"]')?.textContent).toBe('3 documents');

    eventsPushed?.([{ event: 'state_changed', name: 'knowledge-base', state: { kind: 'starting', attempt: 1 }, at_ms: 5 }]);
    eventsPushed?.([{ event: 'state_changed', name: 'knowledge-base', state: { kind: 'running', pid: 8, since_ms: 6 }, at_ms: 6 }]);
    answers[2]!.resolve(info);
    await settle();
    answers[1]!.resolve(starting);
    await settle();
    expect(backend.kbInfo).toHaveBeenCalledTimes(3);
    expect(document.querySelector('[data-testid="kb-server-state"]')?.textContent?.trim()).toBe('server running');
    expect(document.querySelector('[data-testid="kb-documents"]')?.textContent).toBe('3 documents');
  });

  it('shows documents per format and the skipped files with their reasons', async () => {
    const withFormats: KbIndexStatus = {
      ...indexStatus,
      documents: 7,
      documents_by_format: { markdown: 3, pdf: 2, code: 2, html: 0 },
      skipped: [
        { path: 'notes/locked.pdf', reason: 'encrypted (a PDF that needs a password)' },
        { path: 'notes/scan.pdf', reason: 'scanned (no text layer): a PDF of images' },
        { path: 'notes/app/node_modules', reason: 'a folder of generated or vendored files' },
      ],
      skipped_total: 5,
    };
    const backend = fakeBackend({
      kbInfo: () => Promise.resolve(info),
      kbCall: () => Promise.resolve(withFormats),
      onKbStatus: () => Promise.resolve(() => {}),
      onEvents: () => Promise.resolve(() => {}),
    });
    view = mount(KnowledgeBase, { target: document.body, props: { backend } });
    await settle();
    const formats = [...document.querySelectorAll('[data-testid="kb-formats"] li')].map((li) => li.textContent);
    // Largest first, ties in the usual order, formats with no documents left out.
    expect(formats).toEqual(['3 Markdown', '2 PDF', '2 code']);
    expect(document.querySelector('[data-testid="kb-format-html"]')).toBeNull();
    const skipped = document.querySelector('[data-testid="kb-skipped"]');
    expect(skipped?.querySelector('summary')?.textContent).toBe('5 file(s) skipped');
    const rows = [...(skipped?.querySelectorAll('li') ?? [])].map((li) => [
      li.querySelector('.mono')?.textContent,
      li.querySelector('.reason')?.textContent,
    ]);
    expect(rows).toEqual([
      ['notes/locked.pdf', 'encrypted (a PDF that needs a password)'],
      ['notes/scan.pdf', 'scanned (no text layer): a PDF of images'],
      ['notes/app/node_modules', 'a folder of generated or vendored files'],
    ]);
    expect(skipped?.textContent).toContain('and 2 more');
  });

  it('shows no format row for an index that does not count formats', async () => {
    const backend = fakeBackend({
      kbInfo: () => Promise.resolve(info),
      kbCall: () => Promise.resolve(indexStatus),
      onKbStatus: () => Promise.resolve(() => {}),
      onEvents: () => Promise.resolve(() => {}),
    });
    view = mount(KnowledgeBase, { target: document.body, props: { backend } });
    await settle();
    expect(document.querySelector('[data-testid="kb-documents"]')?.textContent).toBe('3 documents');
    expect(document.querySelector('[data-testid="kb-formats"]')).toBeNull();
    expect(document.querySelector('[data-testid="kb-skipped"]')).toBeNull();
  });

  it('searches through the search tool and shows its hits', async () => {
    const result: KbSearchResult = {
      query: 'where do herons nest',
      indexing: false,
      hits: [
        {
          uri: 'kb://notes/herons.md',
          key: 'notes/herons.md',
          title: 'Heron field notes',
          section: 'Nesting',
          anchor: 'nesting',
          line: 9,
          score: 3.5,
          snippet: 'Grey **herons** nest in tall trees',
          tags: ['birds'],
          other_sections: [],
        },
      ],
    };
    const backend = fakeBackend({
      kbInfo: () => Promise.resolve(info),
      kbCall: (tool) => Promise.resolve(tool === 'search' ? result : indexStatus),
      onKbStatus: () => Promise.resolve(() => {}),
      onEvents: () => Promise.resolve(() => {}),
    });
    view = mount(KnowledgeBase, { target: document.body, props: { backend } });
    await settle();
    const input = document.querySelector<HTMLInputElement>('[data-testid="kb-query"]');
    if (!input) throw new Error('no search box');
    input.value = 'where do herons nest';
    input.dispatchEvent(new Event('input', { bubbles: true }));
    flushSync();
    document.querySelector<HTMLButtonElement>('[data-testid="kb-search"]')?.click();
    await settle();

    expect(backend.kbCall).toHaveBeenCalledWith('search', { query: 'where do herons nest', limit: 20 });
    const hits = document.querySelectorAll('[data-testid="kb-hit"]');
    expect(hits).toHaveLength(1);
    expect(hits[0]?.querySelector('.title')?.textContent).toContain('Heron field notes');
    expect(hits[0]?.querySelector('.title')?.textContent).toContain('Nesting');
    expect([...(hits[0]?.querySelectorAll('mark') ?? [])].map((m) => m.textContent)).toEqual(['herons']);
    expect(hits[0]?.querySelector('.uri')?.textContent).toBe('kb://notes/herons.md#nesting · line 9');
  });

  it('says which page a PDF hit is on', async () => {
    const result: KbSearchResult = {
      query: 'heron eggs',
      indexing: false,
      hits: [
        {
          uri: 'kb://notes/field-guide.pdf',
          key: 'notes/field-guide.pdf',
          title: 'Field guide',
          section: 'Page 4',
          anchor: 'page=4',
          line: 31,
          score: 2,
          snippet: '**heron** eggs are pale blue',
          tags: [],
          other_sections: [],
        },
      ],
    };
    const backend = fakeBackend({
      kbInfo: () => Promise.resolve(info),
      kbCall: (tool) => Promise.resolve(tool === 'search' ? result : indexStatus),
      onKbStatus: () => Promise.resolve(() => {}),
      onEvents: () => Promise.resolve(() => {}),
    });
    view = mount(KnowledgeBase, { target: document.body, props: { backend } });
    await settle();
    const input = document.querySelector<HTMLInputElement>('[data-testid="kb-query"]');
    if (!input) throw new Error('no search box');
    input.value = 'heron eggs';
    input.dispatchEvent(new Event('input', { bubbles: true }));
    flushSync();
    document.querySelector<HTMLButtonElement>('[data-testid="kb-search"]')?.click();
    await settle();
    const hit = document.querySelector('[data-testid="kb-hit"]');
    expect(hit?.querySelector('.title')?.textContent).toContain('Page 4');
    expect(hit?.querySelector('.uri')?.textContent).toBe('kb://notes/field-guide.pdf#page=4 · page 4');
  });
});
