// The small interface the UI talks to. `tauri.ts` is its one real implementation (and the only
// module that imports @tauri-apps); tests can provide another.
import type { Availability } from './bindings/Availability';
import type { Budget } from './bindings/Budget';
import type { ConnectPreview } from './bindings/ConnectPreview';
import type { Connection } from './bindings/Connection';
import type { Mode } from './bindings/Mode';
import type { DataLocations } from './bindings/DataLocations';
import type { Event } from './bindings/Event';
import type { LogLine } from './bindings/LogLine';
import type { ServerEntry } from './bindings/ServerEntry';
import type { ServerSpec } from './bindings/ServerSpec';
import type { ServerStatus } from './bindings/ServerStatus';
import type { Settings } from './bindings/Settings';
import type { ErrorCode } from './bindings/ErrorCode';
import type { WireError } from './bindings/WireError';
import type { CallOutcome } from './bindings/CallOutcome';
import type { Export } from './bindings/Export';
import type { Format } from './bindings/Format';
import type { HistoryEntry } from './bindings/HistoryEntry';
import type { Offer } from './bindings/Offer';
import type { Opened } from './bindings/Opened';
import type { Target } from './bindings/Target';
import type { TrafficEntry } from './bindings/TrafficEntry';
import type { KbInfo } from './bindings/KbInfo';
import type { HostStatus } from './bindings/HostStatus';
import type { HostPreview } from './bindings/HostPreview';
import type { DriftReport } from './bindings/DriftReport';
import type { CacheInfo } from './bindings/CacheInfo';
import type { CatalogCard } from './bindings/CatalogCard';
import type { CatalogQuery } from './bindings/CatalogQuery';
import type { InstallForm } from './bindings/InstallForm';
import type { InstallProgress } from './bindings/InstallProgress';
import type { InstallResult } from './bindings/InstallResult';
import type { HostTraffic } from './bindings/HostTraffic';
import type { ToolDiff } from './bindings/ToolDiff';
import type { GetPromptResult, ReadResourceResult } from './mcp';

export type Unsubscribe = () => void;

export interface Backend {
  /** Why this window's app is not the owner of the servers, if it is not. */
  ownerError(): Promise<WireError | null>;
  servers(): Promise<ServerEntry[]>;
  /** Who reaches each server through the gateway now; then kept current by `traffic` events. */
  gatewayTraffic(): Promise<HostTraffic[]>;
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
  /** Tester: connect to a server, a command or a URL. */
  testerOpen(target: Target, protocol: string | null, timeoutSecs: number | null): Promise<Opened>;
  testerOffer(id: number): Promise<Offer>;
  /** Validates `args` against the tool's input schema, then calls it; `callId` lets it be cancelled. */
  testerCall(id: number, tool: string, args: unknown, callId: number, timeoutSecs: number | null): Promise<CallOutcome>;
  testerCancel(callId: number): Promise<boolean>;
  testerRead(id: number, uri: string): Promise<ReadResourceResult>;
  testerPrompt(id: number, name: string, args: Record<string, string>): Promise<GetPromptResult>;
  testerTraffic(id: number, after: number): Promise<TrafficEntry[]>;
  testerTrafficJsonLines(id: number): Promise<string>;
  testerHistory(id: number): Promise<HistoryEntry[]>;
  testerExport(id: number, format: Format, tool: string | null): Promise<Export>;
  testerClose(id: number): Promise<void>;
  /** A knowledge-base index wrote its status (progress, a finished sync); pushed, coalesced. */
  onKbStatus(handler: () => void): Promise<Unsubscribe>;
  /** A session's traffic log grew (pushed, at most every 100 ms); the handler gets its id. */
  onTesterTraffic(handler: (id: number) => void): Promise<Unsubscribe>;
  /** The tray asks the window to show a view (e.g. a server's logs). */
  onNavigate(handler: (view: string, server: string) => void): Promise<Unsubscribe>;

  // The built-in knowledge base (Knowledge base view).
  kbInfo(): Promise<KbInfo>;
  /** Calls one of its tools; resolves to the tool's structured result. */
  kbCall(tool: string, args: Record<string, unknown>): Promise<unknown>;
  kbSetFolders(folders: string[]): Promise<KbInfo>;

  // AI hosts' config files (Hosts view).
  hostsStatus(): Promise<HostStatus[]>;
  /** What making our entries in the host's user file exactly `servers` would change. */
  hostsPreview(host: string, servers: string[]): Promise<HostPreview>;
  /** Writes it: journalled, backed up, undoable. */
  hostsWrite(host: string, servers: string[]): Promise<HostPreview>;
  /** Undoes Switchboard's last write to the host's files; resolves to the file's path. */
  hostsUndo(host: string): Promise<string>;
  /** Points the host at the gateway (`mode`: its default when null); `dryRun` only shows the change. */
  hostsConnect(host: string, mode: Mode | null, dryRun: boolean): Promise<ConnectPreview>;
  /** Removes what connecting wrote and revokes the host's token; `dryRun` only shows the change. */
  hostsDisconnect(host: string, dryRun: boolean): Promise<HostPreview>;
  /** Takes a server the user wrote into a connected host's file into Switchboard; `dryRun` only shows the change. */
  hostsImport(host: string, name: string, dryRun: boolean): Promise<HostPreview>;
  /** The hosts connected to the gateway. */
  hostsConnections(): Promise<Connection[]>;
  /** Where a server added now is available, and what each host needs to see it. */
  hostsAvailability(): Promise<Availability[]>;
  /** A host's tools through the gateway against its limits. */
  hostsBudget(host: string): Promise<Budget>;
  /** The guardian saw our entries change or disappear in a host's file. */
  onHostsDrift(handler: (report: DriftReport) => void): Promise<Unsubscribe>;

  // The catalog (Catalog view).
  catalogSearch(query: CatalogQuery): Promise<CatalogCard[]>;
  /** Fetches the configured MCP Registry's servers and caches them. */
  catalogRefresh(): Promise<CacheInfo>;
  /** The install dialog of an entry: its form and the commands that will run. */
  installForm(entry: string): Promise<InstallForm>;
  /** Fetches, verifies, registers and starts it; progress arrives through `onInstallProgress`. */
  install(entry: string, name: string | null, answers: Array<[string, string]>): Promise<InstallResult>;
  uninstall(name: string): Promise<string[]>;
  onInstallProgress(handler: (progress: InstallProgress) => void): Promise<Unsubscribe>;
  /** How a held server's tools differ from the approved ones (null: they do not). */
  pinsDiff(name: string): Promise<ToolDiff | null>;
  /** Approves its new tools and starts it. */
  pinsApprove(name: string): Promise<ServerStatus>;
}

/** An error from the backend: a stable code and a sentence for people. `unknown` is a failure
 * that did not come from the backend (an exception in the bridge itself). */
export class BackendError extends Error {
  constructor(
    readonly code: ErrorCode | 'unknown',
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
