// The small interface the UI talks to. `tauri.ts` is its one real implementation (and the only
// module that imports @tauri-apps); tests can provide another.
import type { DataLocations } from './bindings/DataLocations';
import type { Event } from './bindings/Event';
import type { LogLine } from './bindings/LogLine';
import type { ServerEntry } from './bindings/ServerEntry';
import type { ServerSpec } from './bindings/ServerSpec';
import type { ServerStatus } from './bindings/ServerStatus';
import type { Settings } from './bindings/Settings';
import type { WireError } from './bindings/WireError';

export type Unsubscribe = () => void;

export interface Backend {
  /** Why this window's app is not the owner of the servers, if it is not. */
  ownerError(): Promise<WireError | null>;
  servers(): Promise<ServerEntry[]>;
  addServer(name: string, spec: ServerSpec): Promise<void>;
  updateServer(name: string, spec: ServerSpec): Promise<void>;
  removeServer(name: string): Promise<void>;
  start(name: string): Promise<ServerStatus>;
  stop(name: string): Promise<ServerStatus>;
  restart(name: string): Promise<ServerStatus>;
  logs(name: string): Promise<LogLine[]>;
  settings(): Promise<Settings>;
  saveSettings(settings: Settings): Promise<void>;
  locations(): Promise<DataLocations>;
  autostart(): Promise<boolean>;
  setAutostart(enabled: boolean): Promise<void>;
  /** Core events, delivered in batches. */
  onEvents(handler: (events: Event[]) => void): Promise<Unsubscribe>;
  /** The tray asks the window to show a view (e.g. a server's logs). */
  onNavigate(handler: (view: string, server: string) => void): Promise<Unsubscribe>;
}

/** An error from the backend: a stable code and a sentence for people. */
export class BackendError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'BackendError';
  }

  static from(value: unknown): BackendError {
    if (value instanceof BackendError) return value;
    if (value && typeof value === 'object' && 'code' in value && 'message' in value) {
      const wire = value as WireError;
      return new BackendError(wire.code, wire.message);
    }
    return new BackendError('unknown', value instanceof Error ? value.message : String(value));
  }
}
