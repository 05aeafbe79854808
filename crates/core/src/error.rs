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

    #[error(
        "{server}'s secret {key} is not in the secret store ({store}); install the server again to give it"
    )]
    MissingSecret { server: String, key: String, store: String },

    /// `config/settings.json` that cannot be read as settings; it is left alone.
    #[error("{path} {problem}")]
    Settings { path: PathBuf, problem: String },

    #[error("no home folder found; set {var} to a folder")]
    NoHomeFolder { var: &'static str },

    #[error("cannot encode {what} as JSON: {source}")]
    Encode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

impl Error {
    /// A stable, machine-readable code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Io { .. } => ErrorCode::Io,
            Error::CorruptRegistry { .. } => ErrorCode::CorruptRegistry,
            Error::NewerRegistry { .. } => ErrorCode::NewerRegistry,
            Error::InvalidName { .. } => ErrorCode::InvalidName,
            Error::InvalidSpec(_) => ErrorCode::InvalidSpec,
            Error::DuplicateServer(_) => ErrorCode::DuplicateServer,
            Error::UnknownServer(_) => ErrorCode::UnknownServer,
            Error::CommandNotFound { .. } => ErrorCode::CommandNotFound,
            Error::Spawn { .. } => ErrorCode::SpawnFailed,
            Error::Secrets(_) | Error::MissingSecret { .. } => ErrorCode::Secrets,
            Error::Settings { .. } => ErrorCode::Settings,
            Error::NoHomeFolder { .. } => ErrorCode::NoHomeFolder,
            Error::Encode { .. } => ErrorCode::Encode,
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

/// Every code an error can carry across a process boundary: the control endpoint, the CLI's
/// `--json`, the window (generated into TypeScript as a union of strings). Closed: a new failure
/// gets a new variant here, so the window's type check sees it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Io,
    Watch,
    Settings,
    CorruptRegistry,
    NewerRegistry,
    InvalidName,
    InvalidSpec,
    DuplicateServer,
    UnknownServer,
    CommandNotFound,
    SpawnFailed,
    Secrets,
    HostFile,
    UnknownHost,
    NoSuchHostFile,
    NothingToUndo,
    NotConnected,
    HostStore,
    Guardian,
    UnknownCatalogEntry,
    AmbiguousCatalogEntry,
    UnknownCatalogVersion,
    Registry,
    BundledCatalog,
    CatalogCache,
    AlreadyOwned,
    NoOwner,
    StartFailed,
    RemoteNotSupervised,
    Control,
    UnknownAction,
    ShuttingDown,
    ToolsChanged,
    PinStore,
    NothingPinned,
    NothingPending,
    Encode,
    InvalidArguments,
    McpTimeout,
    McpHandshake,
    McpTransport,
    McpServerError,
    McpClosed,
    McpCancelled,
    McpProtocol,
    NoSession,
    InvalidInputs,
    CannotInstall,
    OrphanInstallRecord,
    NotInstalled,
    InstallFailed,
    ToolError,
    Task,
    Forbidden,
    Unauthorized,
    Autostart,
    NoHomeFolder,
    NoDataFolder,
    Gateway,
    InvalidHostName,
}

impl ErrorCode {
    /// Every code, for tests and documentation.
    pub const ALL: &[ErrorCode] = &[
        ErrorCode::Io,
        ErrorCode::Watch,
        ErrorCode::Settings,
        ErrorCode::CorruptRegistry,
        ErrorCode::NewerRegistry,
        ErrorCode::InvalidName,
        ErrorCode::InvalidSpec,
        ErrorCode::DuplicateServer,
        ErrorCode::UnknownServer,
        ErrorCode::CommandNotFound,
        ErrorCode::SpawnFailed,
        ErrorCode::Secrets,
        ErrorCode::HostFile,
        ErrorCode::UnknownHost,
        ErrorCode::NoSuchHostFile,
        ErrorCode::NothingToUndo,
        ErrorCode::NotConnected,
        ErrorCode::HostStore,
        ErrorCode::Guardian,
        ErrorCode::UnknownCatalogEntry,
        ErrorCode::AmbiguousCatalogEntry,
        ErrorCode::UnknownCatalogVersion,
        ErrorCode::Registry,
        ErrorCode::BundledCatalog,
        ErrorCode::CatalogCache,
        ErrorCode::AlreadyOwned,
        ErrorCode::NoOwner,
        ErrorCode::StartFailed,
        ErrorCode::RemoteNotSupervised,
        ErrorCode::Control,
        ErrorCode::UnknownAction,
        ErrorCode::ShuttingDown,
        ErrorCode::ToolsChanged,
        ErrorCode::PinStore,
        ErrorCode::NothingPinned,
        ErrorCode::NothingPending,
        ErrorCode::Encode,
        ErrorCode::InvalidArguments,
        ErrorCode::McpTimeout,
        ErrorCode::McpHandshake,
        ErrorCode::McpTransport,
        ErrorCode::McpServerError,
        ErrorCode::McpClosed,
        ErrorCode::McpCancelled,
        ErrorCode::McpProtocol,
        ErrorCode::NoSession,
        ErrorCode::InvalidInputs,
        ErrorCode::CannotInstall,
        ErrorCode::OrphanInstallRecord,
        ErrorCode::NotInstalled,
        ErrorCode::InstallFailed,
        ErrorCode::ToolError,
        ErrorCode::Task,
        ErrorCode::Forbidden,
        ErrorCode::Unauthorized,
        ErrorCode::Autostart,
        ErrorCode::NoHomeFolder,
        ErrorCode::NoDataFolder,
        ErrorCode::Gateway,
        ErrorCode::InvalidHostName,
    ];

    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Io => "io",
            ErrorCode::Settings => "settings",
            ErrorCode::Watch => "watch",
            ErrorCode::CorruptRegistry => "corrupt_registry",
            ErrorCode::NewerRegistry => "newer_registry",
            ErrorCode::InvalidName => "invalid_name",
            ErrorCode::InvalidSpec => "invalid_spec",
            ErrorCode::DuplicateServer => "duplicate_server",
            ErrorCode::UnknownServer => "unknown_server",
            ErrorCode::CommandNotFound => "command_not_found",
            ErrorCode::SpawnFailed => "spawn_failed",
            ErrorCode::Secrets => "secrets",
            ErrorCode::HostFile => "host_file",
            ErrorCode::UnknownHost => "unknown_host",
            ErrorCode::NoSuchHostFile => "no_such_host_file",
            ErrorCode::NothingToUndo => "nothing_to_undo",
            ErrorCode::NotConnected => "not_connected",
            ErrorCode::HostStore => "host_store",
            ErrorCode::Guardian => "guardian",
            ErrorCode::UnknownCatalogEntry => "unknown_catalog_entry",
            ErrorCode::AmbiguousCatalogEntry => "ambiguous_catalog_entry",
            ErrorCode::UnknownCatalogVersion => "unknown_catalog_version",
            ErrorCode::Registry => "registry",
            ErrorCode::BundledCatalog => "bundled_catalog",
            ErrorCode::CatalogCache => "catalog_cache",
            ErrorCode::AlreadyOwned => "already_owned",
            ErrorCode::NoOwner => "no_owner",
            ErrorCode::StartFailed => "start_failed",
            ErrorCode::RemoteNotSupervised => "remote_not_supervised",
            ErrorCode::Control => "control",
            ErrorCode::UnknownAction => "unknown_action",
            ErrorCode::ShuttingDown => "shutting_down",
            ErrorCode::ToolsChanged => "tools_changed",
            ErrorCode::PinStore => "pin_store",
            ErrorCode::NothingPinned => "nothing_pinned",
            ErrorCode::NothingPending => "nothing_pending",
            ErrorCode::Encode => "encode",
            ErrorCode::InvalidArguments => "invalid_arguments",
            ErrorCode::McpTimeout => "mcp_timeout",
            ErrorCode::McpHandshake => "mcp_handshake",
            ErrorCode::McpTransport => "mcp_transport",
            ErrorCode::McpServerError => "mcp_server_error",
            ErrorCode::McpClosed => "mcp_closed",
            ErrorCode::McpCancelled => "mcp_cancelled",
            ErrorCode::McpProtocol => "mcp_protocol",
            ErrorCode::NoSession => "no_session",
            ErrorCode::InvalidInputs => "invalid_inputs",
            ErrorCode::CannotInstall => "cannot_install",
            ErrorCode::OrphanInstallRecord => "orphan_install_record",
            ErrorCode::NotInstalled => "not_installed",
            ErrorCode::InstallFailed => "install_failed",
            ErrorCode::ToolError => "tool_error",
            ErrorCode::Task => "task",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Autostart => "autostart",
            ErrorCode::NoHomeFolder => "no_home_folder",
            ErrorCode::NoDataFolder => "no_data_folder",
            ErrorCode::Gateway => "gateway",
            ErrorCode::InvalidHostName => "invalid_host_name",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lets tests and callers compare with the wire text: `assert_eq!(error.code(), "io")`.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// An error as it crosses a process boundary (control endpoint, `--json`, the UI).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
pub struct WireError {
    pub code: ErrorCode,
    pub message: String,
}

impl From<&Error> for WireError {
    fn from(error: &Error) -> Self {
        WireError { code: error.code(), message: error.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn every_code_serializes_as_its_wire_text_and_back() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_value(code).expect("serialize");
            assert_eq!(json, serde_json::Value::String(code.as_str().to_owned()));
            let back: ErrorCode = serde_json::from_value(json).expect("deserialize");
            assert_eq!(back, *code);
        }
        let mut texts: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        texts.sort_unstable();
        texts.dedup();
        assert_eq!(texts.len(), ErrorCode::ALL.len(), "two codes share a text");
    }
}
