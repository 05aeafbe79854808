//! The crate's one error type: planning, fetching, verifying, registering, uninstalling and
//! updating a catalog entry. Each variant reads as one sentence and carries a stable
//! [`Error::code`]; a failed step's error says that what it had done was undone.

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

    /// Answers to a catalog entry's form that do not pass its checks; nothing was installed.
    #[error("{name} cannot be installed with these inputs: {}", .problems.join("; "))]
    InvalidInputs { name: String, problems: Vec<String> },

    /// The entry has no package or remote this machine can install (a missing runtime, a package
    /// kind not supported, a bundle without a digest); `why` is the whole sentence.
    #[error("{why}")]
    CannotInstall { name: String, why: String },

    #[error("unknown remote transport {0:?}")]
    UnknownTransport(String),

    #[error(
        "a server named {0} is already registered; uninstall it first or install this one under \
         another name with --name"
    )]
    AlreadyRegistered(String),

    #[error(
        "{0} has an install record but no registry entry; run `switchboard uninstall {0}` to \
         clean it up first"
    )]
    OrphanRecord(String),

    #[error("{0} was not installed from the catalog; nothing to update")]
    NotInstalled(String),

    #[error("no server named {0}")]
    UnknownServer(String),

    /// An install, update or uninstall step failed (a download, a package manager, a bundle, the
    /// verification); what it had done was undone.
    #[error("{0}")]
    Failed(String),

    #[error(transparent)]
    Catalog(#[from] switchboard_catalog::Error),

    #[error(transparent)]
    Runtime(#[from] switchboard_runtime::Error),

    #[error(transparent)]
    Core(#[from] switchboard_core::Error),
}

impl Error {
    /// A stable, machine-readable code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Io { .. } => ErrorCode::Io,
            Error::InvalidInputs { .. } => ErrorCode::InvalidInputs,
            Error::CannotInstall { .. } => ErrorCode::CannotInstall,
            Error::UnknownTransport(_) => ErrorCode::CannotInstall,
            Error::AlreadyRegistered(_) => ErrorCode::DuplicateServer,
            Error::OrphanRecord(_) => ErrorCode::OrphanInstallRecord,
            Error::NotInstalled(_) => ErrorCode::NotInstalled,
            Error::UnknownServer(_) => ErrorCode::UnknownServer,
            Error::Failed(_) => ErrorCode::InstallFailed,
            Error::Catalog(e) => e.code(),
            Error::Runtime(e) => e.code(),
            Error::Core(e) => e.code(),
        }
    }

    /// True when the error is about what the user asked for. The CLI maps these to exit code 2.
    pub fn is_usage(&self) -> bool {
        match self {
            Error::InvalidInputs { .. }
            | Error::CannotInstall { .. }
            | Error::UnknownTransport(_)
            | Error::AlreadyRegistered(_)
            | Error::OrphanRecord(_)
            | Error::NotInstalled(_) => true,
            Error::Catalog(e) => e.is_usage(),
            Error::Runtime(e) => e.is_usage(),
            Error::Core(e) => e.is_usage(),
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
