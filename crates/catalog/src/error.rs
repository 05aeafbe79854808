//! The crate's one error type: loading, refreshing and searching the catalog. Each variant reads
//! as one sentence and carries a stable [`Error::code`].

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

    #[error("the catalog has no server named {name}{hint}")]
    UnknownEntry { name: String, hint: String },

    #[error("{name} is ambiguous in the catalog: {}", .matches.join(", "))]
    Ambiguous { name: String, matches: Vec<String> },

    #[error("the registry {registry} has no version {version} of {name}")]
    UnknownVersion { registry: String, name: String, version: String },

    /// A registry API that could not be reached or answered with something that is not a
    /// registry response.
    #[error("the registry {url} {problem}")]
    RegistryApi { url: String, problem: String },

    /// The catalog compiled into this binary does not parse: a build defect, not the user's.
    #[error("the bundled catalog does not parse: {0}")]
    Bundled(#[source] serde_json::Error),

    #[error("the catalog cannot be saved: {0}")]
    Encode(#[source] serde_json::Error),

    /// Settings or another part of the core failed.
    #[error(transparent)]
    Core(#[from] switchboard_core::Error),
}

impl Error {
    /// A stable, machine-readable code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Io { .. } => ErrorCode::Io,
            Error::UnknownEntry { .. } => ErrorCode::UnknownCatalogEntry,
            Error::Ambiguous { .. } => ErrorCode::AmbiguousCatalogEntry,
            Error::UnknownVersion { .. } => ErrorCode::UnknownCatalogVersion,
            Error::RegistryApi { .. } => ErrorCode::Registry,
            Error::Bundled(_) => ErrorCode::BundledCatalog,
            Error::Encode(_) => ErrorCode::CatalogCache,
            Error::Core(e) => e.code(),
        }
    }

    /// True when the error is about what the user asked for (a name or version the catalog does
    /// not have). The CLI maps these to exit code 2.
    pub fn is_usage(&self) -> bool {
        match self {
            Error::UnknownEntry { .. } | Error::Ambiguous { .. } | Error::UnknownVersion { .. } => {
                true
            }
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

impl From<&Error> for switchboard_core::WireError {
    fn from(error: &Error) -> Self {
        switchboard_core::WireError { code: error.code(), message: error.to_string() }
    }
}
