// @vitest-environment jsdom
// The Tester's Tools tab against a fake session: it lists the session's tools, selecting one
// shows its generated form, and Run sends what the form holds and shows the outcome.
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallOutcome } from '../../lib/bindings/CallOutcome';
import type { Offer } from '../../lib/bindings/Offer';
import type { Opened } from '../../lib/bindings/Opened';
import { TesterSession } from '../../lib/tester.svelte';
import { fakeBackend, settle } from '../../test/fake-backend';
import ToolsTab from './ToolsTab.svelte';

const opened: Opened = {
  id: 7,
  label: 'fixture',
  pid: 4242,
  details: {
    transport: 'stdio',
    capabilities: {},
    serverInfo: null,
    protocolVersion: '2026-07-28',
    stateless: true,
    serverName: 'fixture',
    serverVersion: '1.0.0',
    instructions: null,
  },
};

const offer: Offer = {
  tools: [
    {
      name: 'echo',
      description: 'Says it back',
      inputSchema: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] },
    },
    { name: 'add', title: 'Add two numbers', inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } } },
    { name: 'ping', inputSchema: { type: 'object' } },
  ],
  resources: [],
  templates: [],
  prompts: [],
  errors: [],
  flags: [],
};

let view: Record<string, unknown> | undefined;
afterEach(() => {
  if (view) unmount(view);
  view = undefined;
  document.body.innerHTML = '';
});

function session(backend = fakeBackend()) {
  const tester = new TesterSession(backend);
  tester.opened = opened;
  tester.offer = offer;
  tester.selectTool('echo');
  return tester;
}

describe('Tester Tools tab', () => {
  it("lists the session's tools and shows the selected one's form", () => {
    const tester = session();
    view = mount(ToolsTab, { target: document.body, props: { tester } });
    flushSync();

    const buttons = [...document.querySelectorAll<HTMLButtonElement>('button[data-tool]')];
    expect(buttons.map((b) => [b.dataset.tool, b.textContent])).toEqual([
      ['echo', 'echo'],
      ['add', 'Add two numbers'],
      ['ping', 'ping'],
    ]);
    expect(buttons.filter((b) => b.classList.contains('active')).map((b) => b.dataset.tool)).toEqual(['echo']);
    expect(document.querySelector('h2')?.textContent).toBe('echo');
    expect(document.querySelector('.desc')?.textContent).toBe('Says it back');
    expect(document.querySelector('label[for="field-message"]')?.textContent).toContain('*');

    buttons[1]?.click();
    flushSync();
    expect(tester.call.name).toBe('add');
    expect(document.querySelector('h2')?.textContent).toBe('add');
    expect(document.querySelector('[data-path="a"]')).not.toBeNull();
    expect(document.querySelector('[data-path="message"]')).toBeNull();
  });

  it('marks a tool whose description tries to instruct the model, and says why', () => {
    const tester = session();
    tester.offer = { ...offer, flags: [{ tool: 'add', kind: 'hidden-instruction', detail: 'contains "<important>"' }] };
    view = mount(ToolsTab, { target: document.body, props: { tester } });
    flushSync();
    const marked = [...document.querySelectorAll<HTMLButtonElement>('button[data-tool]')]
      .filter((b) => b.querySelector('[data-testid="flagged"]'))
      .map((b) => b.dataset.tool);
    expect(marked).toEqual(['add']);
    expect(document.querySelector('[data-testid="tool-flags"]')).toBeNull();

    tester.selectTool('add');
    flushSync();
    const warning = document.querySelector('[data-testid="tool-flags"]');
    expect(warning?.textContent).toContain('tries to instruct the model');
    expect(warning?.textContent).toContain('hidden-instruction: contains "<important>"');
  });

  it('says so when the server has no tools', () => {
    const tester = session();
    tester.offer = { ...offer, tools: [] };
    tester.selectTool('');
    view = mount(ToolsTab, { target: document.body, props: { tester } });
    flushSync();
    expect(document.querySelectorAll('button[data-tool]')).toHaveLength(0);
    expect(document.querySelector('[aria-label="Tools"]')?.textContent?.trim()).toBe('This server has no tools.');
    expect(document.querySelector('[data-testid="tool-form"]')).toBeNull();
  });

  it('runs the tool with what the form holds and shows the outcome', async () => {
    const outcome: CallOutcome = {
      result: { content: [{ type: 'text', text: 'Echo: hello' }] },
      elapsedMs: 1.5,
      progress: [],
      structured: null,
    };
    const backend = fakeBackend({
      testerCall: () => Promise.resolve(outcome),
      testerTraffic: () => Promise.resolve([]),
    });
    const tester = session(backend);
    view = mount(ToolsTab, { target: document.body, props: { tester } });
    flushSync();
    const message = document.querySelector<HTMLInputElement>('input[data-path="message"]');
    if (!message) throw new Error('no message field');
    message.value = 'hello';
    message.dispatchEvent(new Event('input', { bubbles: true }));
    flushSync();
    document.querySelector<HTMLButtonElement>('[data-testid="run"]')?.click();
    flushSync();
    expect(document.querySelector<HTMLButtonElement>('[data-testid="run"]')?.textContent).toBe('Running…');
    await settle();

    expect(backend.testerCall).toHaveBeenCalledWith(7, 'echo', { message: 'hello' }, 1, 60);
    expect(backend.testerTraffic).toHaveBeenCalledWith(7, 0);
    expect(document.querySelector('[data-testid="call-status"]')?.textContent?.trim()).toBe('OK · 1.5 ms');
    expect(document.querySelector('[data-testid="result"]')?.textContent).toContain('Echo: hello');
  });
});
