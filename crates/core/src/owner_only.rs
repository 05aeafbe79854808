//! Files and folders only their owner may read, whatever the umask: logs (what servers print, a
//! server may print its own secret; who called what through the gateway) and the owner's output.
//! State written whole goes through [`crate::fsutil::write_atomic`] and
//! [`crate::fsutil::restrict_to_owner`] instead.

use std::{fs::File, io, path::Path};

/// Creates `dir` (and its parents) and makes it owner-only (0700), an existing one too.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    crate::fsutil::restrict_to_owner(dir)
}

/// Opens `path` for appending, creating it owner-only (0600) whatever the umask; an existing
/// file that others could read (written before this rule) is made owner-only too.
pub fn append(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    Ok(file)
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use std::{io::Write, os::unix::fs::PermissionsExt};

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).expect("meta").permissions().mode() & 0o777
    }

    #[test]
    fn appended_files_and_their_folders_are_owner_only_whatever_the_umask_or_their_old_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let logs = dir.path().join("a/logs");
        create_dir(&logs).expect("mkdir");
        assert_eq!(mode(&logs), 0o700);
        std::fs::set_permissions(&logs, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        create_dir(&logs).expect("again");
        assert_eq!(mode(&logs), 0o700, "an existing folder is made owner-only again");
        let new = logs.join("new.log");
        append(&new).expect("create").write_all(b"one\n").expect("write");
        assert_eq!(mode(&new), 0o600);
        let old = logs.join("old.log");
        std::fs::write(&old, b"old\n").expect("write");
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        append(&old).expect("open").write_all(b"two\n").expect("append");
        assert_eq!(mode(&old), 0o600, "an old world-readable file is made owner-only");
        assert_eq!(std::fs::read(&old).expect("read"), b"old\ntwo\n");
    }
}
