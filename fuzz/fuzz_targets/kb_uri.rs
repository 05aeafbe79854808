//! Knowledge-base names: whatever a client types (a `kb://` URI, a key, a relative or an
//! absolute path), what resolves is an existing file that is really inside its root (symlinks
//! out of a root, `..`, percent-encoded `..`, other roots' names are all refused); a key names
//! a path lexically inside its root; `uri_of` and resolving its result give the key back.
//!
//! The roots, made once: `<tmp>/docs` and `<tmp>/other/docs` (labels `docs` and `docs-2`) with a
//! few documents, a symlink to a file outside and one to a folder outside, next to
//! `<tmp>/secret.md` and `<tmp>/outside/`.
//!
//! Input: the text typed; `@ROOT@` stands for the folder holding all of it.
#![no_main]

use std::{
    path::{Component, Path, PathBuf},
    sync::OnceLock,
};

use switchboard_kb::roots::{Roots, uri_of};

struct Fixture {
    _dir: tempfile::TempDir,
    base: PathBuf,
    roots: Roots,
    outside: Vec<PathBuf>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = switchboard_fuzz::scratch_dir();
        let base = match dir.path().canonicalize() {
            Ok(b) => b,
            Err(e) => panic!("{e}"),
        };
        let files = [
            "docs/a.md",
            "docs/sub/b b.md",
            "docs/sub/ü.md",
            "docs/sub/deeper/c.mdx",
            "docs/%2E%2E.md",
            "other/docs/a.md",
            "other/docs/only-here.txt",
            "secret.md",
            "outside/s.md",
        ];
        for f in files {
            let path = base.join(f);
            if let Some(parent) = path.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            let _ = std::fs::write(&path, "# x\n");
        }
        #[cfg(unix)]
        {
            let _ = std::os::unix::fs::symlink(base.join("secret.md"), base.join("docs/link.md"));
            let _ = std::os::unix::fs::symlink(base.join("outside"), base.join("docs/linkdir"));
            let up = ["..", "..", "secret.md"].join("/");
            let _ = std::os::unix::fs::symlink(up, base.join("docs/sub/rel.md"));
        }
        let roots = match Roots::new(&[base.join("docs"), base.join("other/docs")]) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        let outside = vec![base.join("secret.md"), base.join("outside")];
        Fixture { _dir: dir, base, roots, outside }
    })
}

/// The root `key`'s label names.
fn root_of<'a>(roots: &'a Roots, key: &str) -> Option<&'a Path> {
    let label = key.split('/').next()?;
    roots.iter().find(|r| r.label == label).map(|r| r.dir.as_path())
}

fn check_path_of(roots: &Roots, key: &str) {
    let Ok(path) = roots.path_of(key) else { return };
    let Some(root) = root_of(roots, key) else {
        panic!("path_of({key:?}) gave {} for an unknown label", path.display())
    };
    let Ok(rest) = path.strip_prefix(root) else {
        panic!("path_of({key:?}) = {} is not under {}", path.display(), root.display())
    };
    assert!(
        rest.components().all(|c| matches!(c, Component::Normal(_)))
            && rest.components().count() > 0,
        "path_of({key:?}) = {} leaves its root",
        path.display()
    );
}

fn check_resolve(f: &Fixture, input: &str) -> Option<String> {
    let (key, path) = f.roots.resolve(input).ok()?;
    assert!(path.is_file(), "resolve({input:?}) = {} is not a file", path.display());
    let Some(root) = root_of(&f.roots, &key) else { panic!("resolve({input:?}) gave key {key:?}") };
    let real = match path.canonicalize() {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    assert!(
        real.starts_with(root),
        "resolve({input:?}) = {} is really {}, outside {}",
        path.display(),
        real.display(),
        root.display()
    );
    for outside in &f.outside {
        assert!(!real.starts_with(outside), "resolve({input:?}) reached {}", real.display());
    }
    assert_eq!(f.roots.path_of(&key).ok().as_deref(), Some(path.as_path()), "key {key:?}");
    Some(key)
}

libfuzzer_sys::fuzz_target!(init: switchboard_fuzz::init(), |data: &[u8]| {
    let f = fixture();
    let input = String::from_utf8_lossy(data).replace("@ROOT@", &f.base.to_string_lossy());
    check_resolve(f, &input);
    check_path_of(&f.roots, &input);
    // A key's URI resolves to that key (when it names a document).
    let uri = uri_of(&input);
    if let Some(key) = check_resolve(f, &uri) {
        assert_eq!(key, input, "uri_of({input:?}) = {uri} resolves to another key");
    }
    // An absolute path under a root has a key that names it again.
    if let Some(key) = f.roots.key_of(Path::new(input.as_str())) {
        check_path_of(&f.roots, &key);
    }
});
