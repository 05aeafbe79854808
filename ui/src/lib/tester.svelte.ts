// The Tester's state, shared by its connect form and its tabs: what to connect to, the open
// session and what the server offers, each tab's inputs and results, the traffic log and the call
// history, and the actions on them. One instance per Tester view; `dispose` ends it.
//
// Tabs are shown one at a time, so everything a tab shows lives here, not in the tab's component:
// switching tabs, or replaying a call from History onto Tools, keeps it as it was.
import { BackendError, type Backend } from './backend';
import type { CallOutcome } from './bindings/CallOutcome';
import type { HistoryEntry } from './bindings/HistoryEntry';
import type { Flag } from './bindings/Flag';
import type { Offer } from './bindings/Offer';
import type { Opened } from './bindings/Opened';
import type { Target } from './bindings/Target';
import type { TrafficEntry } from './bindings/TrafficEntry';
import { copyText } from './clipboard';
import { Lifetime } from './lifetime';
import type { GetPromptResult, JsonSchema, ReadResourceResult } from './mcp';
import { initialValue, pruneArgs, splitCommandLine } from './schema';

/** The protocol revisions the connect form offers to force. */
export const REVISIONS = ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25', '2026-07-28'];

export type TesterTab = 'tools' | 'resources' | 'prompts' | 'traffic' | 'history';

/** How many traffic entries are kept, newest last. */
const TRAFFIC_KEPT = 2000;
/** How often the traffic is fetched while connected (the app does not push it yet). */
/** How long a Copy button says "Copied". */
const COPIED_MS = 1500;

/** The connect form's fields. Kept while connected, so Disconnect shows them as they were. */
export class ConnectFields {
  kind = $state<'server' | 'command' | 'url'>('server');
  serverName = $state('');
  commandLine = $state('');
  url = $state('');
  transport = $state<'' | 'streamable-http' | 'sse'>('');
  headersText = $state('');
  protocol = $state('');
  /** For the connection and for each call. */
  timeoutSecs = $state(60);

  /** What the fields name; throws a sentence for people when they name nothing usable. */
  target(): Target {
    if (this.kind === 'server') return { kind: 'server', name: this.serverName };
    if (this.kind === 'command') {
      const [command, ...rest] = splitCommandLine(this.commandLine);
      if (!command) throw new Error('enter a command, e.g. npx -y @modelcontextprotocol/server-everything');
      return { kind: 'command', command, args: rest, env: {}, cwd: null };
    }
    const headers: Record<string, string> = {};
    for (const line of this.headersText.split('\n')) {
      if (!line.trim()) continue;
      const at = line.indexOf(':');
      if (at < 1) throw new Error(`header "${line}" is not "Name: value"`);
      headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    }
    if (!this.url.trim()) throw new Error('enter the server URL');
    return { kind: 'url', url: this.url.trim(), transport: this.transport || null, headers };
  }
}

/** The Tools tab: the selected tool, its arguments (form or raw JSON) and its last call. */
export class ToolCall {
  name = $state('');
  args = $state<unknown>({});
  rawMode = $state(false);
  rawText = $state('');
  rawError = $state('');
  running = $state(false);
  outcome = $state<CallOutcome | null>(null);
  error = $state<BackendError | null>(null);
}

/** The Resources tab: the URI to read and what reading it gave. */
export class ResourceRead {
  uri = $state('');
  result = $state<ReadResourceResult | null>(null);
  error = $state('');
}

/** The Prompts tab: the selected prompt, its arguments and what getting it gave. */
export class PromptGet {
  name = $state('');
  args = $state<Record<string, string>>({});
  result = $state<GetPromptResult | null>(null);
  error = $state('');
}

export class TesterSession {
  readonly form = new ConnectFields();
  connecting = $state(false);
  connectError = $state('');

  opened = $state<Opened | null>(null);
  offer = $state<Offer | null>(null);
  tab = $state<TesterTab>('tools');

  readonly call = new ToolCall();
  readonly reading = new ResourceRead();
  readonly prompting = new PromptGet();

  traffic = $state<TrafficEntry[]>([]);
  /** The traffic entry shown in full (its seq). */
  expanded = $state<number | null>(null);
  history = $state<HistoryEntry[]>([]);
  /** Which Copy button just copied (`openai`, `anthropic`, `traffic`), for a moment. */
  copied = $state('');

  readonly tools = $derived(this.offer?.tools ?? []);
  /** Why a tool's description looks like it tries to steer the model, by tool name. */
  readonly flags = $derived(groupFlags(this.offer?.flags ?? []));
  readonly tool = $derived(this.tools.find((t) => t.name === this.call.name));
  readonly schema = $derived((this.tool?.inputSchema ?? { type: 'object' }) as JsonSchema);
  readonly prompts = $derived(this.offer?.prompts ?? []);
  readonly prompt = $derived(this.prompts.find((p) => p.name === this.prompting.name));

  #backend: Backend;
  /** Until `dispose`: the Copied resets, and whether a session that opens late is still wanted. */
  #life = new Lifetime();
  /** Until `disconnect`: the traffic subscription of the open session. */
  #connection: Lifetime | null = null;
  #callId = 0;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  /** Closes the session (also one still opening) and drops its traffic subscription: the view was left. */
  dispose(): void {
    this.#life.end();
    void this.disconnect();
  }

  async connect(): Promise<void> {
    this.connectError = '';
    this.connecting = true;
    try {
      await this.disconnect();
      const opened = await this.#backend.testerOpen(this.form.target(), this.form.protocol || null, this.form.timeoutSecs);
      if (this.#life.ended) {
        await this.#backend.testerClose(opened.id).catch(() => {});
        return;
      }
      const connection = (this.#connection = new Lifetime());
      this.opened = opened;
      const offer = await this.#backend.testerOffer(opened.id);
      if (connection.ended) return;
      this.offer = offer;
      this.selectTool(offer.tools[0]?.name ?? '');
      // The backend pushes "this session's traffic grew"; read the new entries then.
      await connection.hold(
        this.#backend.onTesterTraffic((id) => {
          if (id === opened.id) void this.refreshTraffic();
        }),
      );
      await this.refreshTraffic();
    } catch (e) {
      this.connectError = e instanceof Error ? e.message : String(e);
    } finally {
      this.connecting = false;
    }
  }

  async disconnect(): Promise<void> {
    this.#connection?.end();
    this.#connection = null;
    if (this.opened) {
      const id = this.opened.id;
      this.opened = null;
      await this.#backend.testerClose(id).catch(() => {});
    }
    this.offer = null;
    this.call.outcome = null;
    this.call.error = null;
    this.traffic = [];
    this.history = [];
    this.reading.result = null;
    this.prompting.result = null;
  }

  /** Brings the traffic log (and, on the History tab, the history) up to date: what the poll
   * calls after every call and every 800 ms, and what a pushed traffic event can call instead
   * once the app sends one. Entries already shown are skipped, so overlapping refreshes do not
   * list a message twice; an answer for a session that was closed meanwhile is dropped. */
  async refreshTraffic(): Promise<void> {
    const id = this.opened?.id;
    if (id === undefined) return;
    const fresh = await this.#backend.testerTraffic(id, this.traffic.at(-1)?.seq ?? 0).catch(() => []);
    if (this.opened?.id !== id) return;
    const last = this.traffic.at(-1)?.seq ?? 0;
    const unseen = fresh.filter((entry) => entry.seq > last);
    if (unseen.length) this.traffic = [...this.traffic, ...unseen].slice(-TRAFFIC_KEPT);
    if (this.tab === 'history') {
      const history = await this.#backend.testerHistory(id).catch(() => this.history);
      if (this.opened?.id === id) this.history = history;
    }
  }

  selectTool(name: string): void {
    const call = this.call;
    call.name = name;
    const found = this.tools.find((t) => t.name === name);
    const schema = (found?.inputSchema ?? { type: 'object' }) as JsonSchema;
    call.args = initialValue(schema, schema) ?? {};
    call.rawText = JSON.stringify(call.args, null, 2);
    call.rawError = '';
    call.outcome = null;
    call.error = null;
  }

  /** Switches between the generated form and raw JSON, carrying the arguments across. */
  toggleRaw(): void {
    const call = this.call;
    if (call.rawMode) {
      try {
        call.args = JSON.parse(call.rawText || '{}');
        call.rawError = '';
        call.rawMode = false;
      } catch (e) {
        call.rawError = e instanceof Error ? e.message : String(e);
      }
    } else {
      call.rawText = JSON.stringify(pruneArgs(call.args, this.schema), null, 2);
      call.rawMode = true;
    }
  }

  /** Calls `name` with `given`, or with what the form (or the raw JSON) holds. */
  async run(name = this.call.name, given?: unknown): Promise<void> {
    const opened = this.opened;
    if (!opened) return;
    const call = this.call;
    let payload: unknown;
    if (given !== undefined) payload = given;
    else if (call.rawMode) {
      try {
        payload = JSON.parse(call.rawText || '{}');
      } catch (e) {
        call.rawError = e instanceof Error ? e.message : String(e);
        return;
      }
    } else payload = pruneArgs(call.args, this.schema);
    call.running = true;
    call.outcome = null;
    call.error = null;
    this.#callId += 1;
    try {
      call.outcome = await this.#backend.testerCall(opened.id, name, payload, this.#callId, this.form.timeoutSecs);
    } catch (e) {
      call.error = BackendError.from(e);
    } finally {
      call.running = false;
      await this.refreshTraffic();
    }
  }

  async cancel(): Promise<void> {
    await this.#backend.testerCancel(this.#callId);
  }

  /** Copies the selected tool as an OpenAI or Anthropic tool definition. */
  async copyAs(format: 'openai' | 'anthropic'): Promise<void> {
    const opened = this.opened;
    const tool = this.tool;
    if (!opened || !tool) return;
    const exported = await this.#backend.testerExport(opened.id, format, tool.name);
    await copyText(JSON.stringify(exported.tools[0], null, 2));
    this.#flashCopied(format);
  }

  /** Reads a resource, showing it on the Resources tab (also when a result links to one). */
  async read(uri: string): Promise<void> {
    const opened = this.opened;
    if (!opened) return;
    const reading = this.reading;
    this.tab = 'resources';
    reading.uri = uri;
    reading.error = '';
    reading.result = null;
    try {
      reading.result = await this.#backend.testerRead(opened.id, uri);
    } catch (e) {
      reading.error = BackendError.from(e).message;
    }
    await this.refreshTraffic();
  }

  choosePrompt(name: string): void {
    this.prompting.name = name;
    this.prompting.args = {};
    this.prompting.result = null;
  }

  /** Gets the selected prompt with the arguments filled in (empty ones left out). */
  async getPrompt(): Promise<void> {
    const opened = this.opened;
    const prompt = this.prompt;
    if (!opened || !prompt) return;
    const prompting = this.prompting;
    prompting.error = '';
    prompting.result = null;
    const filled: Record<string, string> = {};
    for (const [k, v] of Object.entries(prompting.args)) if (v !== '') filled[k] = v;
    try {
      prompting.result = await this.#backend.testerPrompt(opened.id, prompt.name, filled);
    } catch (e) {
      prompting.error = BackendError.from(e).message;
    }
    await this.refreshTraffic();
  }

  async showHistory(): Promise<void> {
    this.tab = 'history';
    if (this.opened) this.history = await this.#backend.testerHistory(this.opened.id);
  }

  /** Runs an earlier call again, on the Tools tab, with its arguments in the form. */
  async replay(entry: HistoryEntry): Promise<void> {
    this.tab = 'tools';
    this.selectTool(entry.tool);
    const saved = $state.snapshot(entry.arguments);
    this.call.args = saved;
    this.call.rawText = JSON.stringify(saved, null, 2);
    await this.run(entry.tool, saved);
  }

  /** Copies the session's traffic as JSON lines. */
  async copyTraffic(): Promise<void> {
    if (!this.opened) return;
    await copyText(await this.#backend.testerTrafficJsonLines(this.opened.id));
    this.#flashCopied('traffic');
  }

  #flashCopied(what: string): void {
    this.copied = what;
    this.#life.timeout(() => (this.copied = ''), COPIED_MS);
  }
}

function groupFlags(flags: Flag[]): Map<string, Flag[]> {
  const byTool = new Map<string, Flag[]>();
  for (const f of flags) byTool.set(f.tool, [...(byTool.get(f.tool) ?? []), f]);
  return byTool;
}
