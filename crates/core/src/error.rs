//! The crate's one error type. Every variant reads as one clear sentence, and carries a stable
//! machine-readable [`Error::code`] for the control endpoint, the CLI's `--json` and the UI.

use std::path::PathBuf;

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

    #[error(
        "the server registry {path} cannot be read: {message} at line {line}, column {column}. \
         Fix the file or move it aside; Switchboard will not write it until then"
    )]
    CorruptRegistry { path: PathBuf, line: usize, column: usize, message: String },

    #[error(
        "the server registry {path} has schema version {found}, but this Switchboard knows \
         only up to {known}; update Switchboard. The file was left untouched"
    )]
    NewerRegistry { path: PathBuf, found: u64, known: u64 },

    #[error("invalid server name {name:?}: {why}")]
    InvalidName { name: String, why: &'static str },

    #[error("invalid server definition: {0}")]
    InvalidSpec(String),

    #[error("a server named {0} already exists")]
    DuplicateServer(String),

    #[error("no server named {0}")]
    UnknownServer(String),

    #[error("command {command:?} was not found on PATH{login}", login = if *.searched_login_shell { " nor on the login shell's PATH" } else { "" })]
    CommandNotFound { command: String, searched_login_shell: bool },

    #[error("could not start {command}: {source}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },

    /// The keychain or the fallback secret store failed.
    #[error("{0}")]
    Secrets(String),
}

impl Error {
    /// A stable, machine-readable code for this error.
    pub fn code(&self) -> &str {
        match self {
            Error::Io { .. } => "io",
            Error::CorruptRegistry { .. } => "corrupt_registry",
            Error::NewerRegistry { .. } => "newer_registry",
            Error::InvalidName { .. } => "invalid_name",
            Error::InvalidSpec(_) => "invalid_spec",
            Error::DuplicateServer(_) => "duplicate_server",
            Error::UnknownServer(_) => "unknown_server",
            Error::CommandNotFound { .. } => "command_not_found",
            Error::Spawn { .. } => "spawn_failed",
            Error::Secrets(_) => "secrets",
        }
    }

    /// True when the error is about what the user asked for (bad name, bad input), as opposed to
    /// the system failing. The CLI maps these to exit code 2.
    pub fn is_usage(&self) -> bool {
        matches!(self, Error::InvalidName { .. } | Error::InvalidSpec(_))
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { action, path, source }
    }
}

/// An error as it crosses a process boundary (control endpoint, `--json`, the UI).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct WireError {
    pub code: String,
    pub message: String,
}

impl From<&Error> for WireError {
    fn from(error: &Error) -> Self {
        WireError { code: error.code().to_owned(), message: error.to_string() }
    }
}
