//! The crate's one error type: reading, planning and writing hosts' files, the ledger and journal,
//! the guardian. Each variant reads as one sentence and carries a stable [`Error::code`].

use std::path::PathBuf;

use switchboard_core::ErrorCode;

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

    /// A host's file that cannot be read, edited or written as asked; nothing was written.
    #[error("{path}: {problem}")]
    HostFile { path: PathBuf, problem: String },

    #[error("unknown host {name:?}; the hosts are {known}")]
    UnknownHost { name: String, known: String },

    /// The host has no file of the scope asked for (a profile, a project).
    #[error("{0}")]
    NoSuchFile(String),

    #[error("Switchboard has no write to {0} left to undo")]
    NothingToUndo(String),

    /// Switchboard's own record of what it wrote (`data/hosts/`).
    #[error("{path} {problem}")]
    Store { path: PathBuf, problem: String },

    #[error("{0}")]
    Guardian(String),

    #[error("unknown mode {0:?}; the modes are aggregate and per-server")]
    UnknownMode(String),

    #[error("{0} is not connected to Switchboard")]
    NotConnected(crate::HostId),

    /// A host reached by URL needs its gateway token, and none was given.
    #[error("{0} reaches the gateway by URL, and no token was given for it")]
    NoGatewayToken(crate::HostId),

    /// A host reached by command needs Switchboard's own executable, which was not found.
    #[error(
        "{0} reaches the gateway through Switchboard's own executable, which could not be found"
    )]
    NoBridge(crate::HostId),

    /// The registry, the secret store or another part of the core failed.
    #[error(transparent)]
    Core(#[from] switchboard_core::Error),
}

impl Error {
    /// A stable, machine-readable code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Io { .. } => ErrorCode::Io,
            Error::HostFile { .. } => ErrorCode::HostFile,
            Error::UnknownHost { .. } => ErrorCode::UnknownHost,
            Error::NoSuchFile(_) => ErrorCode::NoSuchHostFile,
            Error::NothingToUndo(_) => ErrorCode::NothingToUndo,
            Error::Store { .. } => ErrorCode::HostStore,
            Error::Guardian(_) => ErrorCode::Guardian,
            Error::UnknownMode(_) => ErrorCode::InvalidArguments,
            Error::NotConnected(_) => ErrorCode::NotConnected,
            Error::NoGatewayToken(_) | Error::NoBridge(_) => ErrorCode::HostFile,
            Error::Core(e) => e.code(),
        }
    }

    /// True when the error is about what the user asked for (an unknown host, a scope the host
    /// does not have, nothing to undo). The CLI maps these to exit code 2.
    pub fn is_usage(&self) -> bool {
        match self {
            Error::UnknownHost { .. }
            | Error::NoSuchFile(_)
            | Error::NothingToUndo(_)
            | Error::UnknownMode(_)
            | Error::NotConnected(_) => true,
            Error::Core(e) => e.is_usage(),
            _ => false,
        }
    }
}

impl From<&Error> for switchboard_core::WireError {
    fn from(error: &Error) -> Self {
        switchboard_core::WireError { code: error.code(), message: error.to_string() }
    }
}
