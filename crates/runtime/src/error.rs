//! The crate's one error type: supervising servers, the owner and its control endpoint, tester
//! sessions and pins. Each variant reads as one sentence and carries a stable [`Error::code`].

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

    #[error("no server named {0}")]
    UnknownServer(String),

    #[error(
        "another Switchboard already owns the servers in {state_dir} (pid {pid}); \
         stop it first, or use the CLI to talk to it"
    )]
    AlreadyOwned { state_dir: PathBuf, pid: String },

    #[error(
        "no Switchboard is running to own the servers in {state_dir}; \
         start one with `switchboard serve` or open the Switchboard app"
    )]
    NoOwner { state_dir: PathBuf },

    #[error("{name} did not start: {reason}")]
    StartFailed { name: String, reason: String },

    #[error("{0} is a remote server; it has no process to supervise yet")]
    RemoteNotSupervised(String),

    #[error("the Switchboard control endpoint failed: {0}")]
    Control(String),

    #[error("unknown action {0:?}; the actions are start, stop and restart")]
    UnknownAction(String),

    /// An error reported by the owning process over the control endpoint.
    #[error("{message}")]
    Remote { code: ErrorCode, message: String },

    #[error("the supervisor is shutting down")]
    ShuttingDown,

    /// A server's tools differ from the ones the user approved.
    #[error("{0}")]
    ToolsChanged(String),

    /// The pins file (`data/pins.json`) cannot be read or written as it is.
    #[error("{path}: {problem}")]
    PinStore { path: PathBuf, problem: String },

    #[error(
        "no tools are pinned for {0} (pins are recorded when a server is installed from the \
         catalog)"
    )]
    NothingPinned(String),

    #[error("{0}'s tools have not changed since they were approved; nothing to approve")]
    NothingPending(String),

    /// A traffic entry or other record that cannot be encoded as JSON.
    #[error("cannot encode {what} as JSON: {source}")]
    Encode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },

    /// Tool arguments that do not match the tool's input schema; nothing was sent.
    #[error("the arguments do not match the tool's input schema: {}", .0.join("; "))]
    InvalidArguments(Vec<String>),

    /// Talking MCP to a server failed (tester sessions): timeouts, error answers, closed
    /// connections, unreachable URLs.
    #[error("{message}")]
    Mcp { code: ErrorCode, message: String },

    /// The registry, settings, secrets or spawning failed.
    #[error(transparent)]
    Core(#[from] switchboard_core::Error),
}

impl Error {
    /// A stable, machine-readable code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Io { .. } => ErrorCode::Io,
            Error::UnknownServer(_) => ErrorCode::UnknownServer,
            Error::AlreadyOwned { .. } => ErrorCode::AlreadyOwned,
            Error::NoOwner { .. } => ErrorCode::NoOwner,
            Error::StartFailed { .. } => ErrorCode::StartFailed,
            Error::RemoteNotSupervised(_) => ErrorCode::RemoteNotSupervised,
            Error::Control(_) => ErrorCode::Control,
            Error::UnknownAction(_) => ErrorCode::UnknownAction,
            Error::Remote { code, .. } => *code,
            Error::ShuttingDown => ErrorCode::ShuttingDown,
            Error::ToolsChanged(_) => ErrorCode::ToolsChanged,
            Error::PinStore { .. } => ErrorCode::PinStore,
            Error::NothingPinned(_) => ErrorCode::NothingPinned,
            Error::NothingPending(_) => ErrorCode::NothingPending,
            Error::Encode { .. } => ErrorCode::Encode,
            Error::InvalidArguments(_) => ErrorCode::InvalidArguments,
            Error::Mcp { code, .. } => *code,
            Error::Core(e) => e.code(),
        }
    }

    /// True when the error is about what the user asked for (bad arguments, an unknown action).
    /// The CLI maps these to exit code 2.
    pub fn is_usage(&self) -> bool {
        match self {
            Error::InvalidArguments(_)
            | Error::UnknownAction(_)
            | Error::NothingPinned(_)
            | Error::NothingPending(_) => true,
            Error::Remote { code, .. } => matches!(
                code,
                ErrorCode::InvalidName
                    | ErrorCode::InvalidSpec
                    | ErrorCode::InvalidInputs
                    | ErrorCode::InvalidArguments
                    | ErrorCode::UnknownCatalogEntry
                    | ErrorCode::AmbiguousCatalogEntry
                    | ErrorCode::UnknownCatalogVersion
                    | ErrorCode::CannotInstall
                    | ErrorCode::NotInstalled
                    | ErrorCode::UnknownAction
                    | ErrorCode::NothingPinned
                    | ErrorCode::NothingPending
                    | ErrorCode::UnknownHost
                    | ErrorCode::NoSuchHostFile
                    | ErrorCode::NothingToUndo
            ),
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

impl From<WireError> for Error {
    fn from(wire: WireError) -> Self {
        Error::Remote { code: wire.code, message: wire.message }
    }
}
