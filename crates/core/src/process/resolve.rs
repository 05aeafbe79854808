//! Finding a command: a path is used as it is; a bare name is looked up on PATH and, for GUI
//! launches that did not inherit the login shell's PATH (nvm, Homebrew, `~/.local/bin`), on the
//! login shell's PATH.

use std::{
    collections::HashMap,
    ffi::{OsStr, OsString},
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Mutex, OnceLock},
    time::Duration,
};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Where a command was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum FoundVia {
    /// The command was a path.
    Path,
    /// On this process's PATH.
    Environment,
    /// Only on the login shell's PATH; the child gets that PATH too.
    LoginShell,
}

/// A command resolved to an absolute program path, plus the PATH the child should see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub program: PathBuf,
    pub via: FoundVia,
    pub path_var: Option<OsString>,
}

/// Where bare commands are looked for: a PATH and the user's login shell (`$SHELL`), both taken
/// from the environment value built at the binary's edge ([`crate::Env::search`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Search<'a> {
    pub path: Option<&'a OsStr>,
    pub shell: Option<&'a OsStr>,
}

impl<'a> Search<'a> {
    /// Only `path`, no login shell.
    pub fn path(path: Option<&'a OsStr>) -> Self {
        Search { path, shell: None }
    }
}

/// Resolves `program`: a path is used as it is (relative to `cwd`); a bare name is looked up on
/// the search's PATH, then on its login shell's PATH.
pub fn resolve(program: &str, cwd: Option<&Path>, search: Search<'_>) -> Result<Resolved> {
    let path_var = search.path;
    if Path::new(program).components().count() > 1 || Path::new(program).is_absolute() {
        let path = match cwd {
            Some(cwd) if Path::new(program).is_relative() => cwd.join(program),
            _ => PathBuf::from(program),
        };
        return Ok(Resolved {
            program: path,
            via: FoundVia::Path,
            path_var: path_var.map(Into::into),
        });
    }
    let here = cwd.map_or_else(|| std::env::current_dir().unwrap_or_default(), Path::to_path_buf);
    if let Ok(found) = which::which_in(program, path_var, &here) {
        return Ok(Resolved {
            program: found,
            via: FoundVia::Environment,
            path_var: path_var.map(Into::into),
        });
    }
    let login_path = search.shell.and_then(login_shell_path);
    if let Some(login_path) = &login_path
        && let Ok(found) = which::which_in(program, Some(login_path), &here)
    {
        let merged = merge_paths(path_var, login_path);
        return Ok(Resolved { program: found, via: FoundVia::LoginShell, path_var: Some(merged) });
    }
    Err(Error::CommandNotFound {
        command: program.to_owned(),
        searched_login_shell: login_path.is_some(),
    })
}

/// The current PATH followed by the login shell's entries it lacks.
fn merge_paths(current: Option<&OsStr>, login: &OsStr) -> OsString {
    let mut entries: Vec<PathBuf> =
        current.map(|p| std::env::split_paths(p).collect()).unwrap_or_default();
    for entry in std::env::split_paths(login) {
        if !entries.contains(&entry) {
            entries.push(entry);
        }
    }
    std::env::join_paths(entries).unwrap_or_else(|_| login.to_owned())
}

/// The PATH an interactive login shell `shell` has, asked once per process and shell.
/// Runs the shell with a fixed script (`env`), never with user input.
pub fn login_shell_path(shell: &OsStr) -> Option<OsString> {
    static CACHE: OnceLock<Mutex<HashMap<OsString, Option<OsString>>>> = OnceLock::new();
    if shell.is_empty() {
        return None;
    }
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    cache.entry(shell.to_owned()).or_insert_with(|| query_login_shell_path(shell)).clone()
}

#[cfg(unix)]
fn query_login_shell_path(shell: &OsStr) -> Option<OsString> {
    let is_fish = Path::new(&shell).file_name().is_some_and(|n| n == "fish");
    let args: &[&str] = if is_fish { &["-l", "-c", "env"] } else { &["-i", "-l", "-c", "env"] };
    let mut command = std_command(shell);
    command.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = command.spawn().ok()?;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                tracing::warn!("the login shell {shell:?} did not print its environment in 5 s");
                return None;
            }
        }
    }
    let output = child.wait_with_output().ok()?;
    use std::os::unix::ffi::OsStrExt;
    output
        .stdout
        .split(|b| *b == b'\n')
        .rev()
        .find_map(|line| line.strip_prefix(b"PATH="))
        .map(|p| OsStr::from_bytes(p).to_owned())
}

#[cfg(not(unix))]
fn query_login_shell_path(_shell: &OsStr) -> Option<OsString> {
    None
}

/// A blocking `std::process::Command` for short fixed helper invocations (the login-shell query).
#[allow(clippy::disallowed_methods)] // this module is the one place allowed to build commands
fn std_command(program: impl AsRef<OsStr>) -> std::process::Command {
    std::process::Command::new(program)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_used_as_given() {
        let r = resolve("./bin/x", Some(Path::new("/srv")), Search::default()).expect("resolves");
        assert_eq!(r.program, Path::new("/srv/./bin/x"));
        assert_eq!(r.via, FoundVia::Path);
    }

    #[test]
    fn a_bare_name_is_found_on_the_given_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let exe = dir.path().join("sb-probe-tool");
        std::fs::write(&exe, "#!/bin/sh\n").expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        let r = resolve("sb-probe-tool", None, Search::path(Some(dir.path().as_os_str())))
            .expect("found");
        assert_eq!(r.program, exe);
        assert_eq!(r.via, FoundVia::Environment);
    }

    #[test]
    fn a_missing_command_says_so() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err =
            resolve("sb-surely-missing-cmd", None, Search::path(Some(dir.path().as_os_str())))
                .expect_err("not found");
        assert_eq!(err.code(), "command_not_found");
        assert!(err.to_string().contains("sb-surely-missing-cmd"), "{err}");
    }

    #[test]
    fn login_shell_entries_are_appended_without_duplicates() {
        let merged = merge_paths(Some(OsStr::new("/a:/b")), OsStr::new("/b:/c"));
        assert_eq!(merged, OsString::from("/a:/b:/c"));
    }
}
