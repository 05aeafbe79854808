// The built-in knowledge base's tool results, typed. Written by hand: they are the structured
// content of switchboard-kb's MCP tools (serde, field names as in Rust), and that crate is a leaf
// with no ts-rs. Each type names the Rust type it mirrors; keep them in step.
import type { Backend } from './backend';

/** `Status::state` (a `String` in Rust): the values `crates/kb/src/engine.rs` sets.
 * `following`: this instance follows another process's index and has not read its status yet. */
export type KbIndexState = 'starting' | 'following' | 'indexing' | 'ready' | 'failed';

/** Mirrors `switchboard_kb::engine::Skipped`. */
export interface KbSkipped {
  path: string;
  reason: string;
}

/** Mirrors `switchboard_kb::engine::RootInfo`. */
export interface KbRoot {
  label: string;
  path: string;
}

/** Mirrors `switchboard_kb::engine::Status`: the `index_status` tool's result. */
export interface KbIndexStatus {
  state: KbIndexState;
  /** Files examined so far in the current (or last) sync. */
  files_done: number;
  /** Files the current (or last) sync has to examine. */
  files_total: number;
  /** Documents in the index. */
  documents: number;
  /** Documents in the index per format (`markdown`, `text`, `html`, `pdf`, `code`); absent from
   * an index written before formats were counted. */
  documents_by_format?: Record<string, number>;
  /** Sections in the index (one search unit each). */
  sections: number;
  /** Files not indexed, with the reason (the first 100). */
  skipped: KbSkipped[];
  skipped_total: number;
  roots: KbRoot[];
  index_dir: string;
  index_bytes: number;
  /** How long the last sync took, in milliseconds. */
  last_sync_ms: number;
  /** When the index last changed (Unix milliseconds). */
  updated_at_ms: number;
  watching: boolean;
  error: string | null;
}

/** Mirrors `switchboard_kb::server::SearchArgs`: the `search` tool's arguments. */
export interface KbSearchArgs {
  query: string;
  /** 1-50; the server's default is 10. */
  limit?: number;
  /** Only documents under this folder or path, e.g. `guides` or `kb://docs/guides`. */
  path_prefix?: string;
  /** Only documents carrying any of these tags. */
  tags?: string[];
}

/** Mirrors `switchboard_kb::index::Hit`: one document's best section. */
export interface KbHit {
  /** The document's resource URI (`kb://...`). */
  uri: string;
  /** The document's key: root label, then the path in that folder. */
  key: string;
  title: string;
  /** The heading of the best-matching section (empty: before the first heading). */
  section: string;
  /** The section's anchor: a heading's slug, a PDF page's `page=N`, a code section's `L12-L40`. */
  anchor: string;
  /** 1-based line where the section starts. */
  line: number;
  score: number;
  /** An excerpt with the matched terms marked `**like this**`. */
  snippet: string;
  tags: string[];
  /** Headings of other sections of the same document that also matched. */
  other_sections: string[];
}

/** Mirrors `switchboard_kb::server::SearchResult`: the `search` tool's result. */
export interface KbSearchResult {
  query: string;
  /** Best first; one hit per document. */
  hits: KbHit[];
  /** The first indexing is still running, so results may be incomplete. */
  indexing: boolean;
}

/** The index's state, through the built-in server's `index_status` tool. */
export async function kbIndexStatus(backend: Backend): Promise<KbIndexStatus> {
  return (await backend.kbCall('index_status', {})) as KbIndexStatus;
}

/** The formats' names as the view shows them, in the order it shows them. */
export const KB_FORMATS: Record<string, string> = {
  markdown: 'Markdown',
  text: 'text',
  html: 'HTML',
  pdf: 'PDF',
  code: 'code',
};

/** Per-format document counts, largest first (ties by the order of `KB_FORMATS`), zeros left out. */
export function kbFormatCounts(status: KbIndexStatus): { format: string; label: string; count: number }[] {
  const order = Object.keys(KB_FORMATS);
  const rank = (format: string) => (order.includes(format) ? order.indexOf(format) : order.length);
  return Object.entries(status.documents_by_format ?? {})
    .filter(([, count]) => count > 0)
    .map(([format, count]) => ({ format, label: KB_FORMATS[format] ?? format, count }))
    .sort((a, b) => b.count - a.count || rank(a.format) - rank(b.format));
}

/** Where a hit points: a PDF's page (anchor `page=N`), else the line its section starts on. */
export function kbHitPlace(hit: KbHit): string {
  const page = /^page=(\d+)$/.exec(hit.anchor);
  return page ? `page ${page[1]}` : `line ${hit.line}`;
}

/** Searches the knowledge base through the built-in server's `search` tool. */
export async function kbSearch(backend: Backend, args: KbSearchArgs): Promise<KbSearchResult> {
  return (await backend.kbCall('search', { ...args })) as KbSearchResult;
}
