//! The built-in knowledge-base MCP server.
//!
//! - [`source`]: which files count, in which format (Markdown, text, HTML, PDF, code), and the
//!   sections each splits into (headings, pages, functions).
//! - [`roots`]: the folders, document keys and `kb://` URIs, traversal refused.
//! - [`index`]: the tantivy index (one document per section) and ranked search.
//! - [`ident`]: identifiers (`tools/list`, `listChanged`) as whole tokens and as their parts.
//! - [`rank`]: questions in plain words read as queries; versions of one page folded.
//! - [`embed`]: semantic retrieval's extension point (an embedder, vectors per section, fusion).
//! - [`manifest`]: per-file modification time, size and hash, for incremental indexing.
//! - [`engine`]: folders, index and manifest kept in step; live re-indexing with `notify`.
//! - [`server`]: the MCP face (rmcp): tools, resources, prompts, change notifications.
//! - [`serve`]: running it over stdio or Streamable HTTP, from the command line; over HTTP
//!   every request needs the bearer token kept beside the index (`--no-token` opts out).

pub mod embed;
pub mod engine;
pub mod error;
pub mod ident;
pub mod index;
pub mod manifest;
pub mod rank;
pub mod roots;
pub mod serve;
pub mod server;
pub mod source;
pub mod stem;

pub use engine::{Config, Engine};
pub use error::{Error, Result};
pub use server::KbServer;
