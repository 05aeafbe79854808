//! Answering from the index and the manifest: search, listing, completion, and reading a
//! document (or one of its sections) from disk.

use serde::Serialize;

use super::Engine;
use crate::{
    error::{Error, Result},
    index::{Hit, SearchQuery},
    manifest::SectionRef,
    roots::uri_of,
    source,
};

/// Most bytes `read_document` returns.
pub const MAX_READ_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DocumentInfo {
    pub uri: String,
    pub key: String,
    pub title: String,
    pub tags: Vec<String>,
    pub size: u64,
    pub modified_ms: u64,
    pub sections: usize,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DocumentPage {
    pub documents: Vec<DocumentInfo>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// Documents matching the prefix, over all pages.
    pub total: usize,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DocumentText {
    pub uri: String,
    pub key: String,
    pub title: String,
    pub tags: Vec<String>,
    /// The section returned, when one was asked for.
    pub section: Option<String>,
    /// The document's outline.
    pub sections: Vec<SectionRef>,
    /// Markdown or plain text, as in the file; for an HTML page or a PDF, the text read out of
    /// it, each section under its heading (`# Page 3`).
    pub text: String,
    /// The text was cut at 256 KiB.
    pub truncated: bool,
    pub mime_type: String,
}

impl Engine {
    pub fn search(&self, query: &SearchQuery) -> Result<Vec<Hit>> {
        if !self.is_indexer() {
            self.index.reload()?;
        }
        let labels: Vec<String> = self.roots.iter().map(|r| r.label.clone()).collect();
        self.index.search(query, &labels)
    }

    /// Documents whose key (or path within its folder) starts with `prefix`, in key order,
    /// a page at a time. The cursor is the last key of the previous page.
    pub fn list(&self, prefix: Option<&str>, cursor: Option<&str>, limit: usize) -> DocumentPage {
        if !self.is_indexer() {
            self.reload_manifest();
        }
        let prefix =
            prefix.map(|p| p.trim_start_matches(crate::roots::SCHEME).trim_start_matches("./"));
        let manifest = self.manifest();
        let labels: Vec<&str> = self.roots.iter().map(|r| r.label.as_str()).collect();
        // A prefix that starts with a folder's label (`docs/guides`) is matched against keys;
        // any other against paths within the folders.
        let by_key = prefix.is_some_and(|p| {
            let first = p.split('/').next().unwrap_or_default();
            labels.contains(&first) && (p.contains('/') || p == first)
        });
        let matching = |key: &String| match prefix {
            None | Some("") => true,
            Some(p) if by_key => key.starts_with(p),
            Some(p) => key.split_once('/').is_some_and(|(_, rel)| rel.starts_with(p)),
        };
        let total = manifest.files.keys().filter(|k| matching(k)).count();
        let limit = limit.clamp(1, 500);
        let mut documents = Vec::new();
        let mut next_cursor = None;
        for (key, record) in manifest.files.iter().filter(|(k, _)| matching(k)) {
            if cursor.is_some_and(|c| key.as_str() <= c) {
                continue;
            }
            if documents.len() == limit {
                next_cursor = documents.last().map(|d: &DocumentInfo| d.key.clone());
                break;
            }
            documents.push(DocumentInfo {
                uri: uri_of(key),
                key: key.clone(),
                title: record.title.clone(),
                tags: record.tags.clone(),
                size: record.size,
                modified_ms: record.modified_ms,
                sections: record.sections.len(),
            });
        }
        DocumentPage { documents, next_cursor, total }
    }

    /// Documents whose key or title contains `typed` (case-insensitive), keys in order, at most
    /// `max`; and how many matched in all. For argument completion.
    pub fn complete(&self, typed: &str, max: usize) -> (Vec<String>, usize) {
        if !self.is_indexer() {
            self.reload_manifest();
        }
        let typed = typed.trim_start_matches(crate::roots::SCHEME).to_lowercase();
        let manifest = self.manifest();
        let matching: Vec<&String> = manifest
            .files
            .iter()
            .filter(|(key, record)| {
                key.to_lowercase().contains(&typed) || record.title.to_lowercase().contains(&typed)
            })
            .map(|(key, _)| key)
            .collect();
        (matching.iter().take(max).map(|k| (*k).clone()).collect(), matching.len())
    }

    /// A document's text (all of it, or one section by anchor or heading), read from disk now.
    pub fn read(&self, input: &str, section: Option<&str>) -> Result<DocumentText> {
        let (key, path) = self.roots.resolve(input)?;
        if !source::is_document(&path) {
            return Err(Error::Invalid(format!(
                "{key} is not a document the knowledge base reads (Markdown, text, HTML, PDF or code)"
            )));
        }
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let source::Loaded { format, doc, text } =
            source::load(&path, bytes).map_err(|why| Error::Invalid(format!("{key}: {why}")))?;
        let outline: Vec<SectionRef> = doc.sections.iter().map(SectionRef::from).collect();
        let (body, section_name) = match section.map(str::trim).filter(|s| !s.is_empty()) {
            None => (text.as_str(), None),
            Some(wanted) => {
                let wanted_anchor = wanted.trim_start_matches('#');
                let position = doc.sections.iter().position(|s| {
                    s.anchor == wanted_anchor || s.heading.eq_ignore_ascii_case(wanted)
                });
                let Some(i) = position else {
                    let names: Vec<&str> = doc
                        .sections
                        .iter()
                        .filter(|s| !s.anchor.is_empty())
                        .map(|s| s.anchor.as_str())
                        .collect();
                    return Err(Error::NotFound(format!(
                        "section {wanted:?} in {key}; its sections are: {}",
                        names.join(", ")
                    )));
                };
                let start = doc.sections[i].start;
                let level = doc.sections[i].level;
                // The section runs to the next heading of the same or a higher level.
                let end = doc.sections[i + 1..]
                    .iter()
                    .find(|s| s.level <= level || level == 0)
                    .map_or(text.len(), |s| s.start);
                (text.get(start..end).unwrap_or_default(), Some(doc.sections[i].heading.clone()))
            }
        };
        let mut end = body.len().min(MAX_READ_BYTES);
        while !body.is_char_boundary(end) {
            end -= 1;
        }
        let mime_type = format.mime_type();
        Ok(DocumentText {
            uri: uri_of(&key),
            key,
            title: doc.title,
            tags: doc.tags,
            section: section_name,
            sections: outline,
            truncated: end < body.len(),
            text: body[..end].to_string(),
            mime_type: mime_type.into(),
        })
    }
}
