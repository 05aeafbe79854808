//! The folders the knowledge base reads, and the names documents go by.
//!
//! A document's key is `<root label>/<path relative to the root>` with `/` separators, and its
//! resource URI is `kb://<key>` (percent-encoded). Nothing outside the roots can be named: `..`
//! components are refused, and a path that resolves (through symlinks) outside its root is too.

use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

pub const SCHEME: &str = "kb://";

#[derive(Debug, Clone)]
pub struct Root {
    /// Short unique name, the first segment of every key under this root.
    pub label: String,
    /// Canonical absolute path.
    pub dir: PathBuf,
}

#[derive(Debug, Clone)]
pub struct Roots(Vec<Root>);

impl Roots {
    /// Canonicalizes each folder and gives it a unique label from its name.
    pub fn new(dirs: &[PathBuf]) -> Result<Self> {
        if dirs.is_empty() {
            return Err(Error::Invalid("at least one --root folder is needed".into()));
        }
        let mut roots: Vec<Root> = Vec::new();
        for dir in dirs {
            let canonical = dir.canonicalize().map_err(|_| Error::NoRoot(dir.clone()))?;
            if !canonical.is_dir() {
                return Err(Error::NoRoot(dir.clone()));
            }
            if roots.iter().any(|r| r.dir == canonical) {
                continue;
            }
            let base: String = canonical
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("root")
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
                .collect();
            let base = if base.is_empty() { "root".to_string() } else { base };
            let mut label = base.clone();
            let mut n = 2;
            while roots.iter().any(|r| r.label == label) {
                label = format!("{base}-{n}");
                n += 1;
            }
            roots.push(Root { label, dir: canonical });
        }
        Ok(Roots(roots))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Root> {
        self.0.iter()
    }

    pub fn first(&self) -> &Root {
        // `new` refuses an empty list.
        &self.0[0]
    }

    /// The key of a path under one of the roots (lexically; the path need not exist).
    pub fn key_of(&self, path: &Path) -> Option<String> {
        self.0.iter().find_map(|root| {
            let rel = path.strip_prefix(&root.dir).ok()?;
            let mut parts = vec![root.label.clone()];
            for c in rel.components() {
                match c {
                    Component::Normal(p) => parts.push(p.to_str()?.to_string()),
                    _ => return None,
                }
            }
            (parts.len() > 1).then(|| parts.join("/"))
        })
    }

    /// The path a key names. Refuses `..`, absolute parts and unknown labels.
    pub fn path_of(&self, key: &str) -> Result<PathBuf> {
        let outside = || Error::OutsideRoots(key.to_string());
        let (label, rel) = key.split_once('/').ok_or_else(outside)?;
        let root = self.0.iter().find(|r| r.label == label).ok_or_else(outside)?;
        let mut path = root.dir.clone();
        for part in rel.split('/') {
            match part {
                "" | "." => continue,
                ".." => return Err(outside()),
                p if p.contains('\\') || Path::new(p).is_absolute() => return Err(outside()),
                p => path.push(p),
            }
        }
        if path == root.dir {
            return Err(outside());
        }
        Ok(path)
    }

    /// Resolves what a user or client typed — a `kb://` URI, a key, a path relative to a root,
    /// or an absolute path — to an existing document's key and path, inside the roots.
    pub fn resolve(&self, input: &str) -> Result<(String, PathBuf)> {
        let input = input.trim();
        let candidates: Vec<String> = if let Some(rest) = input.strip_prefix(SCHEME) {
            vec![percent_decode(rest)?]
        } else if Path::new(input).is_absolute() {
            let key = self
                .key_of(Path::new(input))
                .ok_or_else(|| Error::OutsideRoots(input.to_string()))?;
            vec![key]
        } else {
            let rel = input.trim_start_matches("./");
            let mut keys = vec![rel.to_string()];
            keys.extend(self.0.iter().map(|r| format!("{}/{rel}", r.label)));
            keys
        };
        let mut last = Error::NotFound(input.to_string());
        for key in candidates {
            match self.path_of(&key) {
                Ok(path) if path.is_file() => {
                    self.check_inside(&path, &key)?;
                    return Ok((key, path));
                }
                Ok(_) => {}
                Err(e @ Error::OutsideRoots(_)) if !matches!(last, Error::OutsideRoots(_)) => {
                    last = e;
                }
                Err(_) => {}
            }
        }
        // A relative path with `..` is refused as outside, not reported as missing.
        if input.split(['/', '\\']).any(|p| p == "..") {
            return Err(Error::OutsideRoots(input.to_string()));
        }
        Err(match last {
            Error::OutsideRoots(_) if input.starts_with(SCHEME) => {
                Error::OutsideRoots(input.to_string())
            }
            _ => Error::NotFound(input.to_string()),
        })
    }

    /// A path that exists must resolve, through any symlinks, inside its root.
    pub fn check_inside(&self, path: &Path, key: &str) -> Result<()> {
        let real = path.canonicalize().map_err(|e| Error::io(path, e))?;
        let label = key.split('/').next().unwrap_or_default();
        let inside = self.0.iter().any(|r| r.label == label && real.starts_with(&r.dir));
        if inside { Ok(()) } else { Err(Error::OutsideRoots(key.to_string())) }
    }
}

/// `kb://` + the key, percent-encoded outside the URI-safe set.
pub fn uri_of(key: &str) -> String {
    let mut out = String::from(SCHEME);
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(text: &str) -> Result<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| Error::Invalid(format!("bad percent-encoding in {text:?}")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| Error::Invalid(format!("{text:?} is not UTF-8")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_uris_and_traversal() {
        let dir = tempfile::tempdir().unwrap();
        let docs = dir.path().join("my docs");
        std::fs::create_dir_all(docs.join("sub")).unwrap();
        std::fs::write(docs.join("sub/a b.md"), "x").unwrap();
        std::fs::write(dir.path().join("secret.md"), "x").unwrap();
        let roots = Roots::new(std::slice::from_ref(&docs)).unwrap();
        let label = &roots.first().label;
        assert_eq!(label, "my-docs");
        let key = "my-docs/sub/a b.md";
        assert_eq!(uri_of(key), "kb://my-docs/sub/a%20b.md");
        for input in ["kb://my-docs/sub/a%20b.md", key, "sub/a b.md", "./sub/a b.md"] {
            assert_eq!(roots.resolve(input).unwrap().0, key, "{input}");
        }
        let abs = roots.first().dir.join("sub/a b.md");
        assert_eq!(roots.resolve(abs.to_str().unwrap()).unwrap().0, key);
        for bad in [
            "../secret.md",
            "my-docs/../secret.md",
            "kb://my-docs/../secret.md",
            "kb://my-docs/%2E%2E/secret.md",
        ] {
            assert!(matches!(roots.resolve(bad), Err(Error::OutsideRoots(_))), "{bad}");
        }
        let outside = dir.path().canonicalize().unwrap().join("secret.md");
        assert!(matches!(roots.resolve(outside.to_str().unwrap()), Err(Error::OutsideRoots(_))));
        assert!(matches!(roots.resolve("nope.md"), Err(Error::NotFound(_))));
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_out_of_the_root_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let docs = dir.path().join("docs");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(dir.path().join("secret.md"), "x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret.md"), docs.join("link.md")).unwrap();
        let roots = Roots::new(&[docs]).unwrap();
        assert!(matches!(roots.resolve("link.md"), Err(Error::OutsideRoots(_))));
    }
}
