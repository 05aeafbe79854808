//! The crate's one error type: the gateway's listener, its token file and host names.

use std::path::PathBuf;

use switchboard_core::{ErrorCode, WireError};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The gateway could not listen.
    #[error("the gateway cannot listen: {0}")]
    Bind(String),

    #[error("the gateway's token file {path} cannot be read: {problem}")]
    TokenFile { path: PathBuf, problem: String },

    #[error(
        "{0:?} is not a host name: use 1 to 64 letters, digits, '-', '_' or '.' (e.g. claude-desktop)"
    )]
    InvalidHost(String),
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { action, path, source }
    }

    /// A stable, machine-readable code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Io { .. } => ErrorCode::Io,
            Error::Bind(_) | Error::TokenFile { .. } => ErrorCode::Gateway,
            Error::InvalidHost(_) => ErrorCode::InvalidHostName,
        }
    }

    /// True when the error is about what the user asked for. The CLI maps these to exit code 2.
    pub fn is_usage(&self) -> bool {
        matches!(self, Error::InvalidHost(_))
    }
}

impl From<&Error> for WireError {
    fn from(error: &Error) -> Self {
        WireError { code: error.code(), message: error.to_string() }
    }
}
