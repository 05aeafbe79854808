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

    #[error("{path}: {problem}")]
    HostFile { path: PathBuf, problem: String },

    #[error("invalid server definition: {0}")]
    InvalidSpec(String),

    /// Answers to a catalog entry's form that do not pass its checks; nothing was installed.
    #[error("{name} cannot be installed with these inputs: {}", .problems.join("; "))]
    InvalidInputs { name: String, problems: Vec<String> },

    #[error("a server named {0} already exists")]
    DuplicateServer(String),

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

    #[error("command {command:?} was not found on PATH{login}", login = if *.searched_login_shell { " nor on the login shell's PATH" } else { "" })]
    CommandNotFound { command: String, searched_login_shell: bool },

    #[error("could not start {command}: {source}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{name} did not start: {reason}")]
    StartFailed { name: String, reason: String },

    #[error("{0} is a remote server; it has no process to supervise yet")]
    RemoteNotSupervised(String),

    #[error("the Switchboard control endpoint failed: {0}")]
    Control(String),

    /// An error reported by the owning process over the control endpoint.
    #[error("{message}")]
    Remote { code: String, message: String },

    #[error("the catalog has no server named {name}{hint}")]
    UnknownCatalogEntry { name: String, hint: String },

    /// A registry API that could not be reached or answered with something that is not a
    /// registry response.
    #[error("the registry {url} {problem}")]
    RegistryApi { url: String, problem: String },

    /// The keychain or the fallback secret store failed.
    #[error("{0}")]
    Secrets(String),

    /// An install, update or uninstall step failed; what it had done was undone.
    #[error("{0}")]
    Install(String),

    /// A server's tools differ from the ones the user approved.
    #[error("{0}")]
    ToolsChanged(String),

    #[error("the supervisor is shutting down")]
    ShuttingDown,

    /// Tool arguments that do not match the tool's input schema; nothing was sent.
    #[error("the arguments do not match the tool's input schema: {}", .0.join("; "))]
    InvalidArguments(Vec<String>),

    /// Talking MCP to a server failed (tester sessions): timeouts, error answers, closed
    /// connections, unreachable URLs.
    #[error("{message}")]
    Mcp { code: &'static str, message: String },
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
            Error::InvalidInputs { .. } => "invalid_inputs",
            Error::HostFile { .. } => "host_file",
            Error::DuplicateServer(_) => "duplicate_server",
            Error::UnknownServer(_) => "unknown_server",
            Error::AlreadyOwned { .. } => "already_owned",
            Error::NoOwner { .. } => "no_owner",
            Error::CommandNotFound { .. } => "command_not_found",
            Error::Spawn { .. } => "spawn_failed",
            Error::StartFailed { .. } => "start_failed",
            Error::RemoteNotSupervised(_) => "remote_not_supervised",
            Error::Control(_) => "control",
            Error::Remote { code, .. } => code,
            Error::ShuttingDown => "shutting_down",
            Error::UnknownCatalogEntry { .. } => "unknown_catalog_entry",
            Error::RegistryApi { .. } => "registry",
            Error::Mcp { code, .. } => code,
            Error::InvalidArguments(_) => "invalid_arguments",
            Error::Secrets(_) => "secrets",
            Error::Install(_) => "install_failed",
            Error::ToolsChanged(_) => "tools_changed",
        }
    }

    /// True when the error is about what the user asked for (bad name, bad input), as opposed to
    /// the system failing. The CLI maps these to exit code 2.
    pub fn is_usage(&self) -> bool {
        matches!(
            self.code(),
            "invalid_name"
                | "invalid_spec"
                | "invalid_inputs"
                | "invalid_arguments"
                | "unknown_catalog_entry"
        )
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

impl From<WireError> for Error {
    fn from(wire: WireError) -> Self {
        Error::Remote { code: wire.code, message: wire.message }
    }
}
