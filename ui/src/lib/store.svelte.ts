// The UI's live picture of the servers: loaded once, then kept current by core events (no
// polling). Log lines are kept per server, bounded.
import { type Backend, BackendError } from './backend';
import type { Event } from './bindings/Event';
import type { HostTraffic } from './bindings/HostTraffic';
import type { LogLine } from './bindings/LogLine';
import { appendLog, applyEvent, type Servers } from './events';
import { Lifetime } from './lifetime';

export class Store {
  servers: Servers = $state({});
  /** Per server, the hosts that reach it through the gateway and the calls that went through. */
  traffic: Record<string, HostTraffic> = $state({});
  logs: Record<string, LogLine[]> = $state({});
  error: BackendError | null = $state(null);
  loaded = $state(false);
  /** A clock for uptimes and countdowns (a display tick, not a backend poll). */
  now = $state(Date.now());

  #backend: Backend;
  /** What the running `start` holds; `stop` ends it, also while `start` is still awaiting. */
  #life: Lifetime | null = null;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  async start(): Promise<void> {
    this.#life?.end();
    const life = (this.#life = new Lifetime());
    await life.hold(this.#backend.onEvents((events) => this.apply(events)));
    if (life.ended) return;
    await this.reload();
    // Re-render uptimes and countdowns once a second, only while one is on screen.
    life.interval(() => {
      if (document.visibilityState === 'visible' && this.#clockShown()) this.now = Date.now();
    }, 1000);
  }

  stop(): void {
    this.#life?.end();
    this.#life = null;
  }

  async reload(): Promise<void> {
    try {
      const entries = await this.#backend.servers();
      const next: Servers = {};
      for (const entry of entries) next[entry.name] = entry;
      this.servers = next;
      this.error = null;
    } catch (error) {
      this.error = BackendError.from(error);
    } finally {
      this.loaded = true;
    }
    // Only the owner runs a gateway; without one the column stays empty.
    try {
      this.#setTraffic(await this.#backend.gatewayTraffic());
    } catch {
      this.traffic = {};
    }
  }

  #setTraffic(servers: HostTraffic[]): void {
    const next: Record<string, HostTraffic> = {};
    for (const t of servers) next[t.name] = t;
    this.traffic = next;
  }

  apply(events: Event[]): void {
    for (const event of events) {
      applyEvent(this.servers, event);
      if (event.event === 'traffic') this.#setTraffic(event.servers);
      if (event.event === 'log') {
        const lines = (this.logs[event.name] ??= []);
        appendLog(lines, event.line);
      }
    }
  }

  /** Replaces a server's buffered log with the owner's ring (when the Logs view opens). */
  async loadLogs(name: string): Promise<void> {
    this.logs[name] = await this.#backend.logs(name);
  }

  #clockShown(): boolean {
    return Object.values(this.servers).some((e) => e.status.state.kind === 'running' || e.status.state.kind === 'backing_off');
  }

  get names(): string[] {
    return Object.keys(this.servers).sort();
  }
}
