//! The crate's one error type: every lower crate's error, wrapped as it is (its code and message
//! pass through), and the few failures that belong to the operations themselves.

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

    #[error("the knowledge base needs at least one folder")]
    NoFolders,

    #[error("{} is not a folder", .0.display())]
    NotAFolder(PathBuf),

    #[error("{0} is not the built-in server")]
    NotBuiltIn(String),

    /// A server named for a host's file is not in the registry.
    #[error("no server named {0} in the registry")]
    NotRegistered(String),

    /// A folder could not be watched for changes.
    #[error("cannot watch {path} for changes: {problem}")]
    Watch { path: PathBuf, problem: String },

    /// A knowledge-base tool answered with an error.
    #[error("{0}")]
    ToolError(String),

    /// A blocking task (file I/O moved off the async runtime) panicked or was cancelled.
    #[error("a background task failed: {0}")]
    Task(String),

    /// An owner started in the background did not answer in time.
    #[error("the Switchboard started in the background did not answer within {seconds} s; see {}", log.display())]
    OwnerDidNotStart { log: PathBuf, seconds: u64 },

    /// A host's file has no entry of that name to import.
    #[error("{host}'s file has no server entry named {name:?} to import")]
    NotAnEntry { host: String, name: String },

    /// The stdio bridge could not reach the gateway or lost it.
    #[error("{0}")]
    Bridge(String),

    /// The owner accepted a quit request but still holds the state folder.
    #[error("the running Switchboard was asked to quit but still runs after {seconds} s")]
    OwnerDidNotQuit { seconds: u64 },

    #[error(transparent)]
    Core(#[from] switchboard_core::Error),

    #[error(transparent)]
    Catalog(#[from] switchboard_catalog::Error),

    #[error(transparent)]
    Hosts(#[from] switchboard_hosts::Error),

    #[error(transparent)]
    Runtime(#[from] switchboard_runtime::Error),

    #[error(transparent)]
    Install(#[from] switchboard_install::Error),

    #[error(transparent)]
    Gateway(#[from] switchboard_gateway::Error),
}

impl Error {
    /// A stable, machine-readable code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Io { .. } => ErrorCode::Io,
            Error::NoFolders | Error::NotAFolder(_) | Error::NotBuiltIn(_) => {
                ErrorCode::InvalidSpec
            }
            Error::NotRegistered(_) => ErrorCode::UnknownServer,
            Error::ToolError(_) => ErrorCode::ToolError,
            Error::Watch { .. } => ErrorCode::Watch,
            Error::Task(_) => ErrorCode::Task,
            Error::OwnerDidNotStart { .. } => ErrorCode::StartFailed,
            Error::OwnerDidNotQuit { .. } => ErrorCode::Control,
            Error::Bridge(_) => ErrorCode::McpTransport,
            Error::NotAnEntry { .. } => ErrorCode::UnknownServer,
            Error::Core(e) => e.code(),
            Error::Catalog(e) => e.code(),
            Error::Hosts(e) => e.code(),
            Error::Runtime(e) => e.code(),
            Error::Install(e) => e.code(),
            Error::Gateway(e) => e.code(),
        }
    }

    /// True when the error is about what the user asked for. The CLI maps these to exit code 2.
    pub fn is_usage(&self) -> bool {
        match self {
            Error::NoFolders
            | Error::NotAFolder(_)
            | Error::NotBuiltIn(_)
            | Error::NotRegistered(_) => true,
            Error::Core(e) => e.is_usage(),
            Error::Catalog(e) => e.is_usage(),
            Error::Hosts(e) => e.is_usage(),
            Error::Runtime(e) => e.is_usage(),
            Error::Install(e) => e.is_usage(),
            Error::Gateway(e) => e.is_usage(),
            _ => false,
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { action, path, source }
    }
}

impl From<&Error> for WireError {
    fn from(error: &Error) -> Self {
        WireError { code: error.code(), message: error.to_string() }
    }
}
