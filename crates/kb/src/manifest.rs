//! What is in the index, per file: modification time, size and content hash (to index only what
//! changed), plus the title, tags and section outline (to list documents without the index).
//!
//! Written atomically after each index commit. Should the process die between the two, the next
//! start sees an older manifest than the index and re-indexes those files; replacing a file's
//! sections is idempotent, so the index never ends up with stale or doubled sections.

use std::{collections::BTreeMap, io::Write, path::Path};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Bump when the schema, the parser or the manifest changes meaning: forces a full rebuild.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub files: BTreeMap<String, FileRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    pub modified_ms: u64,
    pub size: u64,
    pub hash: String,
    pub title: String,
    pub tags: Vec<String>,
    pub sections: Vec<SectionRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SectionRef {
    pub heading: String,
    pub anchor: String,
    pub level: u8,
    pub line: u32,
}

impl From<&crate::source::Section> for SectionRef {
    fn from(s: &crate::source::Section) -> Self {
        SectionRef {
            heading: s.heading.clone(),
            anchor: s.anchor.clone(),
            level: s.level,
            line: s.line,
        }
    }
}

impl Manifest {
    /// The saved manifest, or an empty one when it is missing, unreadable or from another version.
    pub fn load(path: &Path) -> Manifest {
        let loaded = std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Manifest>(&bytes).ok())
            .filter(|m| m.version == VERSION);
        loaded.unwrap_or(Manifest { version: VERSION, files: BTreeMap::new() })
    }

    /// Temp file in the same directory, fsync, rename. Written as it is serialised, through a
    /// buffer, rather than made whole in memory first.
    pub fn save(&self, path: &Path) -> Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, tmp.as_file());
        serde_json::to_writer(&mut out, self).map_err(|e| {
            if e.is_io() {
                // A full disk, say: the I/O error itself, with the file's path.
                Error::io(tmp.path(), e.into())
            } else {
                Error::Invalid(e.to_string())
            }
        })?;
        out.flush().map_err(|e| Error::io(tmp.path(), e))?;
        drop(out);
        tmp.as_file().sync_all().map_err(|e| Error::io(tmp.path(), e))?;
        tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
        Ok(())
    }
}
