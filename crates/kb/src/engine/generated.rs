//! Folders of generated or vendored files, which a code folder has and nobody means to search:
//! dependencies (`node_modules`, a Go or PHP `vendor`, a virtual environment) and a build's
//! output (Cargo's `target`, `dist`, `build`, `out` beside a project's manifest). A folder of
//! documents that happens to be called `build` is not one: the name alone decides only for
//! names no one gives a folder of their own.

use std::path::Path;

/// Names that are always dependencies or caches.
const ALWAYS: [&str; 4] = ["node_modules", "__pycache__", "bower_components", "site-packages"];

/// A project's manifest, beside which `dist`, `build`, `out` and `target` are its build output.
const MANIFESTS: [&str; 11] = [
    "package.json",
    "Cargo.toml",
    "pyproject.toml",
    "setup.py",
    "go.mod",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "CMakeLists.txt",
    "composer.json",
    "Gemfile",
];

/// Is this folder one of generated or vendored files?
pub(super) fn is_generated(dir: &Path) -> bool {
    let Some(name) = dir.file_name().and_then(|n| n.to_str()) else { return false };
    let beside_manifest =
        || dir.parent().is_some_and(|parent| MANIFESTS.iter().any(|m| parent.join(m).is_file()));
    match name {
        n if ALWAYS.contains(&n) => true,
        "target" => dir.join("CACHEDIR.TAG").is_file() || beside_manifest(),
        "dist" | "build" | "out" | "vendor" => beside_manifest(),
        "venv" | "env" => dir.join("pyvenv.cfg").is_file(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_name_and_by_the_manifest_beside_them() {
        let dir = tempfile::tempdir().unwrap();
        let at = |p: &str| {
            let path = dir.path().join(p);
            std::fs::create_dir_all(&path).unwrap();
            path
        };
        assert!(is_generated(&at("notes/node_modules")));
        assert!(!is_generated(&at("notes/build")), "a folder of documents named build");
        std::fs::write(at("app").join("package.json"), "{}").unwrap();
        assert!(is_generated(&at("app/dist")));
        assert!(is_generated(&at("app/build")));
        assert!(!is_generated(&at("app/src")));
        let target = at("lone/target");
        assert!(!is_generated(&target));
        std::fs::write(target.join("CACHEDIR.TAG"), "Signature: 8a477f597d28d172789f06886806bc55")
            .unwrap();
        assert!(is_generated(&target));
    }
}
