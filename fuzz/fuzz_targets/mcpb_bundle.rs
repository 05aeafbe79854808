//! MCPB bundles: unpacking a zip, whatever names, modes and duplicates it holds, creates
//! nothing outside the bundle's folder (every path is checked after each run, in a fresh
//! temporary folder nested a few levels deep); the manifest the install form reads from the
//! bytes (`manifest_of`) is the one the unpacked bundle starts with; a manifest's form and
//! command never fail.
//!
//! Input: `B` then archive entries in the text form of `switchboard_fuzz::zipfile::parse_entries`
//! (the zip is written from them as given), or `R` then the bytes of a zip.
#![no_main]

use std::path::{Component, Path, PathBuf};

use switchboard_fuzz::{scratch_dir, zipfile};
use switchboard_install::bundle;

/// How many folders the bundle's folder sits below the scratch root: an entry climbing out by
/// up to this many `..` still lands in the scratch folder, where the walk finds it.
const DEPTH: usize = 12;
/// Absolute entry names are kept only under this folder, which must never appear.
const ESCAPE: &str = "/sbfuzz-escape";

/// The entry names of an archive, as the zip reader sees them.
fn names(bytes: &[u8]) -> Option<Vec<String>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).ok()?;
    let mut out = Vec::new();
    for i in 0..archive.len() {
        if let Ok(file) = archive.by_index_raw(i) {
            out.push(file.name().to_owned());
        }
    }
    Some(out)
}

/// Whether unpacking an entry of this name could touch the machine outside the scratch folder if
/// the unpacker had a bug: absolute names (other than under `ESCAPE`) and deeper climbs are not
/// run. The relative climbs and `ESCAPE` names that are run test the same refusal.
fn unsafe_to_try(name: &str) -> bool {
    let absolute = name.starts_with(['/', '\\']) || name.get(1..2) == Some(":");
    let climbs = name.split(['/', '\\']).filter(|p| *p == "..").count();
    (absolute && !name.starts_with(&format!("{ESCAPE}/"))) || climbs >= DEPTH
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        out.push(path.clone());
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk(&path, out);
        }
    }
}

fn check_manifest(manifest: &bundle::Manifest, dir: &Path) {
    let fields = bundle::fields(manifest, "/home/u");
    let answers: Vec<(String, String)> =
        fields.iter().map(|f| (f.key.clone(), format!("answer-{}", f.key))).collect();
    let command = bundle::command(manifest, dir, &answers, "/home/u");
    assert_eq!(
        command.env.keys().collect::<Vec<_>>(),
        manifest.server.mcp_config.env.keys().collect::<Vec<_>>(),
        "the command's env names differ from the manifest's"
    );
    for name in &command.secret_env {
        assert!(command.env.contains_key(name), "secret env {name} is not in the env");
    }
}

libfuzzer_sys::fuzz_target!(init: switchboard_fuzz::init(), |data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let bytes = match mode {
        b'B' => zipfile::write(&zipfile::parse_entries(rest)),
        b'R' => rest.to_vec(),
        _ => return,
    };
    let names = names(&bytes);
    if names.as_ref().is_some_and(|n| n.iter().any(|n| unsafe_to_try(n))) {
        return;
    }

    let scratch = scratch_dir();
    let mut parent = scratch.path().to_path_buf();
    for level in 0..DEPTH {
        parent.push(format!("l{level}"));
    }
    let dir = parent.join("bundle");
    if let Err(e) = std::fs::create_dir_all(&parent) {
        panic!("scratch: {e}");
    }
    let from_bytes = bundle::manifest_of(&bytes);
    let unpacked = bundle::unpack(&bytes, &dir);

    // Nothing outside the bundle's folder, but the folders leading to it.
    let mut created = Vec::new();
    walk(scratch.path(), &mut created);
    for path in &created {
        let leading = parent.starts_with(path);
        assert!(
            leading || path.starts_with(&dir),
            "unpacking created {} outside {} (entries {names:?})",
            path.display(),
            dir.display()
        );
        let Ok(meta) = std::fs::symlink_metadata(path) else { continue };
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(path).unwrap_or_default();
            let resolved = path.parent().unwrap_or(&dir).join(&target);
            let climbs = resolved.components().any(|c| matches!(c, Component::ParentDir));
            assert!(
                resolved.starts_with(&dir) && !climbs,
                "unpacking made a symlink {} -> {} out of the folder",
                path.display(),
                target.display()
            );
        }
    }
    assert!(!Path::new(ESCAPE).exists(), "an absolute entry name was unpacked at {ESCAPE}");

    if let (Ok(read), Ok(unpacked)) = (&from_bytes, &unpacked) {
        assert_eq!(
            format!("{read:?}"),
            format!("{unpacked:?}"),
            "the install form reads another manifest than the unpacked bundle starts with \
             (entries {names:?})"
        );
    }
    if let Ok(manifest) = &from_bytes {
        check_manifest(manifest, &dir);
    }
    if let Ok(manifest) = &unpacked {
        check_manifest(manifest, &dir);
    }
});
