//! File helpers every writer in the core uses: atomic replacement (temp file in the same folder,
//! fsync, rename, fsync the folder) that keeps the original's permissions, and advisory locks.

use std::{
    fs::File,
    io::{self, Write},
    path::Path,
};

/// Replaces `path` with `bytes` so that a reader (or a crash) only ever sees the old or the new
/// content. The new file keeps the permissions of the one it replaces; a new file gets `mode`
/// (owner-only for our state).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_then(path, bytes, || {})
}

/// [`write_atomic`], running `before_rename` once the new content is durable in the temp file
/// (tests use it to kill a writer at the worst moment).
pub fn write_atomic_then(
    path: &Path,
    bytes: &[u8],
    before_rename: impl FnOnce(),
) -> io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    // Opened and written through the plain `File`: `tempfile`'s own wrappers would add the temp
    // file's name to an error, a file that is gone by the time the caller reports it.
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{}.", path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()))
        .suffix(".tmp")
        .make_in(dir, |temp| {
            let mut options = std::fs::OpenOptions::new();
            options.read(true).write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            options.open(temp)
        })?;
    match std::fs::metadata(path) {
        Ok(meta) => temp.as_file().set_permissions(meta.permissions())?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    temp.as_file_mut().write_all(bytes)?;
    temp.as_file().sync_all()?;
    before_rename();
    temp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// Makes a folder or file readable by its owner only (no-op where that has no meaning).
pub fn restrict_to_owner(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if path.is_dir() { 0o700 } else { 0o600 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// An advisory lock on a lock file, released when dropped (or when the process dies).
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

fn open_lock_file(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new().create(true).truncate(false).read(true).write(true).open(path)
}

impl FileLock {
    /// Waits for the exclusive lock.
    pub fn exclusive(path: &Path) -> io::Result<Self> {
        let file = open_lock_file(path)?;
        file.lock()?;
        Ok(FileLock { _file: file })
    }

    /// Waits for a shared lock.
    pub fn shared(path: &Path) -> io::Result<Self> {
        let file = open_lock_file(path)?;
        file.lock_shared()?;
        Ok(FileLock { _file: file })
    }

    /// Takes the exclusive lock if nobody holds it; `Ok(None)` when somebody does.
    pub fn try_exclusive(path: &Path) -> io::Result<Option<Self>> {
        let file = open_lock_file(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(FileLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_content_and_keeps_permissions() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f.json");
        std::fs::write(&path, b"old").expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        }
        write_atomic(&path, b"new").expect("atomic write");
        assert_eq!(std::fs::read(&path).expect("read"), b"new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o640);
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "temp files left behind: {leftovers:?}");
    }

    #[test]
    fn try_exclusive_sees_a_held_lock() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("l.lock");
        let held = FileLock::try_exclusive(&path).expect("io").expect("free");
        assert!(FileLock::try_exclusive(&path).expect("io").is_none());
        drop(held);
        assert!(FileLock::try_exclusive(&path).expect("io").is_some());
    }
}
