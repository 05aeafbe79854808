//! The crate's one error type.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the search index at {path} failed: {message}")]
    Index { path: PathBuf, message: String },
    #[error(
        "the search index at {0} is in use by another knowledge-base server; give this one its own --index-dir"
    )]
    IndexBusy(PathBuf),
    #[error("the query does not parse: {0}")]
    Query(String),
    #[error("{0} is outside the knowledge-base folders")]
    OutsideRoots(String),
    #[error("no document {0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the folder {0} does not exist or is not a directory")]
    NoRoot(PathBuf),
    #[error("watching the folders failed: {0}")]
    Watch(String),
    #[error("the HTTP token file {path}: {problem}")]
    HttpToken { path: PathBuf, problem: String },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
