//! MCPB bundles (`.mcpb`, formerly `.dxt`): a zip with a `manifest.json` whose `server.mcp_config`
//! says how to start the server and whose `user_config` declares what to ask the user. A bundle
//! is downloaded, checked against the entry's `fileSha256` before anything is unpacked, unpacked
//! (paths that would leave the folder are refused) and read here.

use std::{
    collections::{BTreeMap, HashSet},
    io::{Read, Seek},
    path::{Component, Path, PathBuf},
    time::Duration,
};

use serde::Deserialize;
use serde_json::Value;

use super::inputs::{Field, FieldKind};
use crate::{Error, Result};
use switchboard_core::digest::sha256;

/// Bundles larger than this are refused.
pub const MAX_BUNDLE_BYTES: usize = 512 * 1024 * 1024;

#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub version: String,
    pub server: ManifestServer,
    #[serde(default)]
    pub user_config: BTreeMap<String, UserConfig>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ManifestServer {
    /// `node`, `python`, `binary` or `uv`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub entry_point: Option<String>,
    pub mcp_config: McpConfig,
}

#[derive(Debug, Clone, Deserialize)]
pub struct McpConfig {
    pub command: String,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UserConfig {
    /// `string`, `number`, `boolean`, `directory`, `file`.
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub sensitive: bool,
    #[serde(default)]
    pub multiple: bool,
    #[serde(default)]
    pub default: Option<Value>,
}

/// Downloads `url` (http, https or file) and checks its SHA-256 against `expected`; the bytes
/// are returned only when they match.
pub async fn download(url: &str, expected: &str, timeout: Duration) -> Result<Vec<u8>> {
    let bytes = if let Some(path) = url.strip_prefix("file://") {
        std::fs::read(path).map_err(Error::io("reading", path))?
    } else {
        fetch(url, timeout).await?
    };
    let actual = sha256(&bytes);
    if !actual.eq_ignore_ascii_case(expected) {
        return Err(Error::Failed(format!(
            "the bundle from {url} does not match its fileSha256: expected {expected}, got \
             {actual}. It was not unpacked; nothing was installed"
        )));
    }
    Ok(bytes)
}

/// Like [`download`], keeping the checked bytes in `cache_dir` (named by their SHA-256), so the
/// install dialog can read a bundle's form and the install that follows does not download it
/// again. [`forget_cached`] drops the copy once the bundle is unpacked.
pub async fn download_cached(
    url: &str,
    expected: &str,
    cache_dir: &Path,
    timeout: Duration,
) -> Result<Vec<u8>> {
    let cached = cache_dir.join(format!("{}.mcpb", expected.to_ascii_lowercase()));
    if let Ok(bytes) = std::fs::read(&cached)
        && sha256(&bytes).eq_ignore_ascii_case(expected)
    {
        return Ok(bytes);
    }
    let bytes = download(url, expected, timeout).await?;
    std::fs::create_dir_all(cache_dir).map_err(Error::io("creating", cache_dir))?;
    switchboard_core::fsutil::write_atomic(&cached, &bytes)
        .map_err(Error::io("writing", &cached))?;
    Ok(bytes)
}

/// Drops the cached copy of the bundle with this SHA-256.
pub fn forget_cached(expected: &str, cache_dir: &Path) {
    let _ = std::fs::remove_file(cache_dir.join(format!("{}.mcpb", expected.to_ascii_lowercase())));
}

/// Refuses an archive in which two entries would be unpacked to the same path (`manifest.json`
/// and `./manifest.json`, `a/../x` and `x`, names that differ only in case): the install form
/// would read the first and the unpacked bundle hold the last, so what the user is shown would
/// not be what runs.
fn refuse_duplicates<R: Read + Seek>(
    archive: &mut zip::ZipArchive<R>,
) -> std::result::Result<(), String> {
    let mut seen = HashSet::new();
    for i in 0..archive.len() {
        let file = archive.by_index_raw(i).map_err(|e| e.to_string())?;
        // A name that leaves the folder is refused by `unpack` on its own.
        let Some(name) = file.enclosed_name() else { continue };
        let mut path = PathBuf::new();
        for part in name.components() {
            match part {
                Component::Normal(p) => path.push(p.to_string_lossy().to_lowercase()),
                Component::ParentDir => {
                    path.pop();
                }
                _ => {}
            }
        }
        if !seen.insert(path) {
            return Err(format!("{:?} is a second entry for a path already in it", file.name()));
        }
    }
    Ok(())
}

/// The manifest inside a bundle's bytes, without unpacking it.
pub fn manifest_of(bytes: &[u8]) -> Result<Manifest> {
    let bad = |problem: String| Error::Failed(format!("the bundle is not a valid MCPB: {problem}"));
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| bad(e.to_string()))?;
    refuse_duplicates(&mut archive).map_err(bad)?;
    let mut file =
        archive.by_name("manifest.json").map_err(|e| bad(format!("no manifest.json ({e})")))?;
    let mut text = Vec::new();
    file.read_to_end(&mut text).map_err(|e| bad(e.to_string()))?;
    serde_json::from_slice(&text)
        .map_err(|e| Error::Failed(format!("the bundle's manifest.json is not valid: {e}")))
}

async fn fetch(url: &str, timeout: Duration) -> Result<Vec<u8>> {
    let failed = |problem: String| Error::Failed(format!("downloading {url} failed: {problem}"));
    let client =
        reqwest::Client::builder().timeout(timeout).build().map_err(|e| failed(e.to_string()))?;
    let mut response = client.get(url).send().await.map_err(|e| failed(e.to_string()))?;
    if !response.status().is_success() {
        return Err(failed(format!("HTTP {}", response.status())));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| failed(e.to_string()))? {
        if bytes.len() + chunk.len() > MAX_BUNDLE_BYTES {
            return Err(failed(format!("larger than {} MiB", MAX_BUNDLE_BYTES >> 20)));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Unpacks `bytes` into `dir` (created; must not exist) and reads its manifest.
pub fn unpack(bytes: &[u8], dir: &Path) -> Result<Manifest> {
    let bad = |problem: String| Error::Failed(format!("the bundle is not a valid MCPB: {problem}"));
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| bad(e.to_string()))?;
    refuse_duplicates(&mut archive).map_err(bad)?;
    std::fs::create_dir_all(dir).map_err(Error::io("creating", dir))?;
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).map_err(|e| bad(e.to_string()))?;
        let Some(relative) = file.enclosed_name() else {
            return Err(bad(format!("{:?} would be unpacked outside its folder", file.name())));
        };
        let target = dir.join(relative);
        if file.is_dir() {
            std::fs::create_dir_all(&target).map_err(Error::io("creating", &target))?;
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(Error::io("creating", parent))?;
        }
        let mut content = Vec::new();
        file.read_to_end(&mut content).map_err(|e| bad(e.to_string()))?;
        std::fs::write(&target, &content).map_err(Error::io("writing", &target))?;
        #[cfg(unix)]
        if let Some(mode) = file.unix_mode() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode & 0o755))
                .map_err(Error::io("setting permissions of", &target))?;
        }
    }
    read_manifest(dir)
}

pub fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join("manifest.json");
    let text = std::fs::read(&path)
        .map_err(|e| Error::Failed(format!("the bundle has no readable manifest.json ({e})")))?;
    serde_json::from_slice(&text)
        .map_err(|e| Error::Failed(format!("the bundle's manifest.json is not valid: {e}")))
}

/// The install form of a bundle: one field per `user_config` entry; `${HOME}` in a default is
/// the user's `home`.
pub fn fields(manifest: &Manifest, home: &str) -> Vec<Field> {
    manifest
        .user_config
        .iter()
        .map(|(key, c)| Field {
            key: key.clone(),
            kind: FieldKind::Variable,
            description: c.description.clone().or_else(|| c.title.clone()),
            required: c.required,
            secret: c.sensitive,
            default: c.default.as_ref().map(|d| match d {
                Value::String(s) => expand_home(s, home),
                other => other.to_string(),
            }),
            choices: Vec::new(),
            format: match c.kind.as_str() {
                "number" => "number",
                "boolean" => "boolean",
                "directory" | "file" => "filepath",
                _ => "string",
            }
            .into(),
            placeholder: None,
            repeated: c.multiple,
        })
        .collect()
}

fn expand_home(s: &str, home: &str) -> String {
    s.replace("${HOME}", home)
}

/// The command a bundle starts with, its arguments filled in from `dir` and the answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleCommand {
    pub command: String,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    /// Env variables whose values came from a sensitive field.
    pub secret_env: Vec<String>,
    /// Some argument carries a sensitive value.
    pub secret_args: bool,
}

/// `${HOME}` is `home`.
pub fn command(
    manifest: &Manifest,
    dir: &Path,
    answers: &[(String, String)],
    home: &str,
) -> BundleCommand {
    let values = |key: &str| -> Vec<String> {
        let given: Vec<String> =
            answers.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect();
        if !given.is_empty() {
            return given;
        }
        fields(manifest, home)
            .into_iter()
            .find(|f| f.key == key)
            .and_then(|f| f.default)
            .into_iter()
            .collect()
    };
    let sensitive = |text: &str| {
        manifest
            .user_config
            .iter()
            .any(|(k, c)| c.sensitive && text.contains(&format!("${{user_config.{k}}}")))
    };
    let fill = |text: &str| -> String {
        let mut out = expand_home(text, home)
            .replace("${__dirname}", &dir.to_string_lossy())
            .replace("${pathSeparator}", std::path::MAIN_SEPARATOR_STR)
            .replace("${/}", std::path::MAIN_SEPARATOR_STR);
        for key in manifest.user_config.keys() {
            let placeholder = format!("${{user_config.{key}}}");
            if out.contains(&placeholder) {
                out = out.replace(&placeholder, &values(key).join(","));
            }
        }
        out
    };
    let mut args = Vec::new();
    let mut secret_args = false;
    for arg in &manifest.server.mcp_config.args {
        secret_args |= sensitive(arg);
        // An argument that is exactly one multiple-valued field expands into one per value.
        let whole = manifest
            .user_config
            .iter()
            .find(|(k, c)| c.multiple && arg.trim() == format!("${{user_config.{k}}}"));
        match whole {
            Some((key, _)) => args.extend(values(key)),
            None => args.push(fill(arg)),
        }
    }
    let mut env = BTreeMap::new();
    let mut secret_env = Vec::new();
    for (key, value) in &manifest.server.mcp_config.env {
        if sensitive(value) {
            secret_env.push(key.clone());
        }
        env.insert(key.clone(), fill(value));
    }
    BundleCommand {
        command: fill(&manifest.server.mcp_config.command),
        args,
        env,
        secret_env,
        secret_args,
    }
}

/// Where a bundle is unpacked: `<packages>/mcpb/<name>@<version>`.
pub fn bundle_dir(packages_dir: &Path, folder: &str) -> PathBuf {
    packages_dir.join("mcpb").join(folder)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        serde_json::from_value(serde_json::json!({
            "manifest_version": "0.3", "name": "demo", "version": "1.0.0",
            "server": {"type": "binary", "entry_point": "bin/demo",
                "mcp_config": {"command": "${__dirname}/bin/demo",
                    "args": ["--root", "${user_config.roots}", "--mode=${user_config.mode}"],
                    "env": {"DEMO_TOKEN": "${user_config.token}"}}},
            "user_config": {
                "token": {"type": "string", "sensitive": true, "required": true, "title": "Token"},
                "roots": {"type": "directory", "multiple": true, "required": true},
                "mode": {"type": "string", "default": "fast"},
                "cache": {"type": "directory", "default": "${HOME}/.demo"}
            }
        }))
        .expect("manifest")
    }

    #[test]
    fn user_config_becomes_the_form_and_fills_the_command() {
        let m = manifest();
        let fields = fields(&m, "/u/ada");
        let cache = fields.iter().find(|f| f.key == "cache").expect("cache");
        assert_eq!(cache.default.as_deref(), Some("/u/ada/.demo"));
        let token = fields.iter().find(|f| f.key == "token").expect("token");
        assert!(token.secret && token.required);
        assert_eq!(token.description.as_deref(), Some("Token"));
        let roots = fields.iter().find(|f| f.key == "roots").expect("roots");
        assert!(roots.repeated);
        assert_eq!(roots.format, "filepath");
        let answers = vec![
            ("token".to_string(), "s3cret".to_string()),
            ("roots".into(), "/a".into()),
            ("roots".into(), "/b".into()),
        ];
        let c = command(&m, Path::new("/opt/demo"), &answers, "/u/ada");
        assert_eq!(c.command, "/opt/demo/bin/demo");
        assert_eq!(c.args, vec!["--root", "/a", "/b", "--mode=fast"]);
        assert_eq!(c.env.get("DEMO_TOKEN").map(String::as_str), Some("s3cret"));
        assert_eq!(c.secret_env, vec!["DEMO_TOKEN"]);
        assert!(!c.secret_args);
    }

    #[test]
    fn a_bundle_with_a_second_manifest_under_another_spelling_is_refused() {
        // Found by fuzzing (mcpb_bundle): the install form read `manifest.json` (by its exact
        // name) while unpacking wrote `./manifest.json` over it, so the command shown was not
        // the one that ran.
        let shown = br#"{"server": {"type": "node", "mcp_config": {"command": "node"}}}"#;
        let other = br#"{"server": {"type": "binary", "mcp_config": {"command": "/bin/sh"}}}"#;
        for second in ["./manifest.json", "x/../manifest.json", "MANIFEST.json"] {
            let mut bytes = Vec::new();
            {
                let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut bytes));
                let options = zip::write::SimpleFileOptions::default();
                for (name, content) in [("manifest.json", &shown[..]), (second, &other[..])] {
                    zip.start_file(name, options).expect("start");
                    std::io::Write::write_all(&mut zip, content).expect("write");
                }
                zip.finish().expect("finish");
            }
            let error = manifest_of(&bytes).expect_err(second);
            assert!(error.to_string().contains("second entry"), "{second}: {error}");
            let dir = tempfile::tempdir().expect("tempdir");
            let error = unpack(&bytes, &dir.path().join("b")).expect_err(second);
            assert!(error.to_string().contains("second entry"), "{second}: {error}");
        }
    }

    #[test]
    fn an_archive_entry_that_escapes_its_folder_is_refused() {
        let mut bytes = Vec::new();
        {
            let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut bytes));
            zip.start_file("../evil", zip::write::SimpleFileOptions::default()).expect("start");
            std::io::Write::write_all(&mut zip, b"x").expect("write");
            zip.finish().expect("finish");
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let error = unpack(&bytes, &dir.path().join("b")).expect_err("refused");
        assert!(error.to_string().contains("outside its folder"), "{error}");
        assert!(!dir.path().join("evil").exists());
    }
}
