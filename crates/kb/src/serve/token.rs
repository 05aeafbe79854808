//! The HTTP endpoint's bearer token: 256 random bits in `<index dir>/http-token`, owner-only,
//! made once and reused by later runs over the same index, and checked in constant time on
//! every request before rmcp sees it.

use std::{
    fs::{File, OpenOptions},
    io::{Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
    sync::Arc,
};

use axum::{
    Json,
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::error::{Error, Result};

/// The token file's name, in the index folder.
pub const FILE_NAME: &str = "http-token";

/// Hex digits in a token: 32 random bytes.
const TOKEN_HEX: usize = 64;

/// What the endpoint reads of a token file before deciding it is not one.
const MAX_FILE_BYTES: u64 = 1024;

/// The token HTTP clients must send, and the file it is kept in. `Debug` never shows the token.
#[derive(Clone)]
pub struct HttpToken {
    value: Arc<str>,
    file: PathBuf,
}

impl std::fmt::Debug for HttpToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpToken").field("file", &self.file).finish_non_exhaustive()
    }
}

impl HttpToken {
    /// The token kept in `index_dir`: read from its file, or made when there is none (the folder
    /// too, 0700, when it does not exist yet) and when the file holds no token (an empty or
    /// corrupted one is replaced, with a warning). A new file appears whole or not at all (written
    /// aside, then linked in place only if there is still none), and an existing one is read or
    /// rewritten only under an exclusive lock, so concurrent starts over one index agree on one
    /// token and a good token is never overwritten.
    pub fn load_or_create(index_dir: &Path) -> Result<Self> {
        create_owner_only_dir(index_dir)?;
        let path = index_dir.join(FILE_NAME);
        for _ in 0..3 {
            if let Some(value) = read_or_replace(&path)? {
                return Ok(HttpToken { value: value.into(), file: path });
            }
            if let Some(value) = create(index_dir, &path)? {
                return Ok(HttpToken { value: value.into(), file: path });
            }
        }
        Err(Error::HttpToken {
            path,
            problem: "it keeps appearing and disappearing; is another program removing it?".into(),
        })
    }

    /// Where the token is kept.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Whether `headers` carry `Authorization: Bearer <this token>`, compared in constant time.
    fn admits(&self, headers: &axum::http::HeaderMap) -> bool {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        given.is_some_and(|given| same(given.as_bytes(), self.value.as_bytes()))
    }
}

/// The middleware in front of the MCP service: no token or a wrong one is 401, and the request
/// goes no further.
pub(crate) async fn require(
    State(token): State<HttpToken>,
    request: Request,
    next: Next,
) -> Response {
    if token.admits(request.headers()) {
        return next.run(request).await;
    }
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {
            "code": -32600,
            "message": format!(
                "the knowledge base needs its token: Authorization: Bearer <the contents of {FILE_NAME} in its index folder>"
            ),
        },
    });
    let mut response = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// Equal bytes, in time that does not depend on where they differ. A copy of the gateway's
/// `tokens::same`, as the control endpoint's `token_matches` is: this crate may depend on no
/// other Switchboard crate (`tests/architecture.rs`), and a crate for one fold is not worth it.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The token a file's bytes hold: 64 hex digits, surrounding whitespace ignored.
fn parse(bytes: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?.trim();
    (text.len() == TOKEN_HEX && text.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| text.to_owned())
}

fn new_token() -> std::result::Result<String, String> {
    let mut bytes = [0u8; TOKEN_HEX / 2];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a new token: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A new token in a new file at `path`: `None` when there is a file there already.
fn create(dir: &Path, path: &Path) -> Result<Option<String>> {
    let problem = |problem: String| Error::HttpToken { path: path.to_path_buf(), problem };
    let value = new_token().map_err(problem)?;
    // tempfile makes the file 0600.
    let mut aside = tempfile::Builder::new()
        .prefix(".http-token.")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    let written =
        aside.write_all(format!("{value}\n").as_bytes()).and_then(|()| aside.as_file().sync_all());
    written.map_err(|e| Error::io(aside.path(), e))?;
    match aside.persist_noclobber(path) {
        Ok(_) => Ok(Some(value)),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(None),
        Err(e) => Err(Error::io(path, e.error)),
    }
}

/// The token in the file at `path`, replaced (with a warning) when the file holds none; `None`
/// when the file is gone.
fn read_or_replace(path: &Path) -> Result<Option<String>> {
    let problem = |problem: String| Error::HttpToken { path: path.to_path_buf(), problem };
    if let Ok(meta) = std::fs::symlink_metadata(path)
        && !meta.file_type().is_file()
    {
        return Err(problem("it is not a regular file; remove it".into()));
    }
    let mut file = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    // Released when `file` is dropped.
    file.lock().map_err(|e| problem(format!("cannot lock it: {e}")))?;
    restrict_to_owner(&file, path)?;
    let mut bytes = Vec::new();
    (&mut file).take(MAX_FILE_BYTES).read_to_end(&mut bytes).map_err(|e| Error::io(path, e))?;
    if let Some(value) = parse(&bytes) {
        return Ok(Some(value));
    }
    let what = if bytes.iter().all(u8::is_ascii_whitespace) {
        "is empty"
    } else {
        "does not hold a token (64 hex digits)"
    };
    tracing::warn!("the HTTP token file {} {what}; replacing it with a new token", path.display());
    let value = new_token().map_err(problem)?;
    let written = file
        .set_len(0)
        .and_then(|()| file.seek(SeekFrom::Start(0)))
        .and_then(|_| file.write_all(format!("{value}\n").as_bytes()))
        .and_then(|()| file.sync_all());
    written.map_err(|e| Error::io(path, e))?;
    Ok(Some(value))
}

/// The index folder, made 0700 (with any missing parent) when it does not exist; an existing
/// folder, which may be the user's own `--index-dir`, keeps its mode.
fn create_owner_only_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| Error::io(dir, e))
}

/// 0600 whatever the file was: a token file loosened by hand is tightened again.
#[cfg(unix)]
fn restrict_to_owner(file: &File, path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = file.metadata().map_err(|e| Error::io(path, e))?.permissions().mode() & 0o777;
    if mode != 0o600 {
        if mode & 0o077 != 0 {
            tracing::warn!(
                "the HTTP token file {} was open to other users (mode {mode:o}); made owner-only",
                path.display()
            );
        }
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io(path, e))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict_to_owner(_file: &File, _path: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_64_hex_digits_are_a_token_and_comparison_is_exact() {
        let good = "ab".repeat(32);
        assert_eq!(parse(format!("{good}\n").as_bytes()).as_deref(), Some(good.as_str()));
        for bad in ["", "\n", "abc", &"ab".repeat(33), &"zz".repeat(32), "\u{fffd}"] {
            assert_eq!(parse(bad.as_bytes()), None, "{bad:?}");
        }
        assert_eq!(parse(&[0xff; 64]), None);
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd") && !same(b"abc", b"ab") && !same(b"", b"a"));
    }
}
