//! Carrying out an install: fetch the package ahead of time (npm into a prefix of ours, uv into
//! tool folders of ours, `docker pull`, or an MCPB download checked against its SHA-256), find
//! its entry point, then *verify* it — start it, handshake, list its tools — and only then
//! store its secrets, pin its tools and register it. Any failure undoes what was done, so an
//! install either completes or leaves nothing behind. Uninstall and update live here too.
//!
//! Every external command is argv run through `process` (never a shell), and its exact words
//! are in the plan the caller showed before calling [`Installer::install`].

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use serde::{Deserialize, Serialize};
use switchboard_core::clock::{Clock, SystemClock};

use crate::rollback::Rollback;
use switchboard_mcp::SessionOptions;

use super::{
    bundle,
    inputs::{self, Answers, Field, Way},
    plan::{self, Plan, Start, Toolbox},
};
use crate::{Error, Result};
use switchboard_catalog::ServerJson;
use switchboard_core::{
    Env, Launch, Paths, Registry, RemoteTransport, ServerName, ServerSpec,
    fsutil::write_atomic,
    process::{self, CommandSpec},
    secrets::SecretStore,
};
use switchboard_runtime::{
    pins::{Flag, Pins, ToolPin, flags, pins_of},
    tester::{Target, TesterSession},
};

/// One step of an install: the event stream's type, so the window, `switchboard events` and the
/// CLI's progress line all see the same thing.
pub use switchboard_runtime::events::InstallProgress as Progress;

/// What to install.
#[derive(Debug, Clone)]
pub struct Request {
    pub server: ServerJson,
    /// The local name; derived from the entry's name when absent.
    pub name: Option<String>,
    pub way: Option<Way>,
    pub answers: Answers,
}

/// What install created, kept in `data/installs/<name>.json` so uninstall and update can undo
/// and redo it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallRecord {
    /// The catalog entry (`io.github.user/weather`) and its version.
    pub entry: String,
    pub version: String,
    /// `npm`, `pypi`, `oci`, `mcpb` or `remote`.
    pub runtime: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_dir: Option<PathBuf>,
    /// Keys this server holds in the secret store.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// The answers that were not secret (secret ones are in the store as `input:KEY`).
    #[serde(default)]
    pub answers: Vec<(String, String)>,
    pub installed_at_ms: u64,
}

/// The result of an install.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "InstallResult")]
pub struct Installed {
    pub name: String,
    pub entry: String,
    pub version: String,
    /// How it starts, as shown to the user (secret values are never in it).
    pub command: Vec<String>,
    pub tools: Vec<ToolSummary>,
    /// Suspicious tool descriptions.
    pub flags: Vec<Flag>,
    pub notes: Vec<String>,
    /// Where its secrets went.
    #[ts(optional)]
    pub secret_store: Option<String>,
    pub protocol: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ToolSummary {
    pub name: String,
    pub description: String,
}

/// A server ready to register: what to store and how to reach it for verification.
struct Built {
    spec: ServerSpec,
    /// The same launch with secret values, for verification.
    launch: Launch,
    secrets: BTreeMap<String, String>,
    command: Vec<String>,
    notes: Vec<String>,
    package_dir: Option<PathBuf>,
    /// Keys of the form's secret fields (their answers never go into the install record).
    secret_fields: Vec<String>,
}

/// Installs, uninstalls and updates catalog servers under one state folder.
#[derive(Debug, Clone)]
pub struct Installer {
    paths: Paths,
    pub toolbox: Toolbox,
    /// How long verification may take (start, handshake, list tools).
    pub verify_timeout: Duration,
    /// How long one fetch step (npm install, uv tool install, docker pull) may take.
    pub step_timeout: Duration,
    /// Dates install records and pins.
    pub clock: Arc<dyn Clock>,
    /// Where verification finds bare commands.
    pub env: Env,
    /// Servers it registers are lazy (see `ServerSpec::lazy`): the `lazyInstalls` setting.
    pub lazy: bool,
}

/// The local name for a catalog entry: the part after the slash, made a valid server name
/// (`io.github.modelcontextprotocol/server-everything` → `server-everything`).
pub fn local_name(entry: &str) -> String {
    let last = entry.rsplit('/').next().unwrap_or(entry).to_lowercase();
    let clean: String = last
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '-' })
        .collect();
    let trimmed = clean.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    let mut name: String = trimmed.chars().take(64).collect();
    if name.is_empty() {
        name = "server".into();
    }
    name
}

impl Installer {
    /// Runtimes are looked up on `env`'s PATH (and its login shell's PATH).
    pub fn new(paths: &Paths, env: &Env) -> Installer {
        let mut installer = Installer::new_with(paths, Toolbox::find(env.search()));
        installer.env = env.clone();
        installer
    }

    /// For what needs no runtime (uninstall, records): no PATH or login-shell look-ups.
    pub fn without_runtimes(paths: &Paths) -> Installer {
        Installer::new_with(paths, Toolbox::default())
    }

    fn new_with(paths: &Paths, toolbox: Toolbox) -> Installer {
        Installer {
            paths: paths.clone(),
            toolbox,
            verify_timeout: Duration::from_secs(60),
            step_timeout: Duration::from_secs(600),
            clock: Arc::new(SystemClock),
            env: Env::default(),
            lazy: false,
        }
    }

    /// The user's home folder as the environment gave it (`${HOME}` in bundles); empty if unset.
    fn home(&self) -> String {
        self.env.home().map(|h| h.to_string_lossy().into_owned()).unwrap_or_default()
    }

    fn packages_dir(&self) -> PathBuf {
        self.paths.data_dir.join("packages")
    }

    fn record_path(&self, name: &ServerName) -> PathBuf {
        self.paths.data_dir.join("installs").join(format!("{name}.json"))
    }

    pub fn record(&self, name: &ServerName) -> Result<Option<InstallRecord>> {
        let path = self.record_path(name);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                Error::Failed(format!("the install record {} cannot be read: {e}", path.display()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("reading", &path)(e)),
        }
    }

    fn save_record(&self, name: &ServerName, record: &InstallRecord) -> Result<()> {
        let path = self.record_path(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(Error::io("creating", dir))?;
        }
        let mut bytes = serde_json::to_vec_pretty(record)
            .map_err(|e| Error::Failed(format!("cannot serialize the install record: {e}")))?;
        bytes.push(b'\n');
        write_atomic(&path, &bytes).map_err(Error::io("writing", &path))
    }

    /// The local name a request installs as, checked to be valid and free.
    pub fn name_for(&self, request: &Request) -> Result<ServerName> {
        let name: ServerName = match &request.name {
            Some(n) => n.parse()?,
            None => local_name(&request.server.name).parse()?,
        };
        if Registry::new(&self.paths).load()?.contains_key(&name) {
            return Err(Error::AlreadyRegistered(name.to_string()));
        }
        Ok(name)
    }

    /// The plan the user is shown before anything runs.
    pub fn plan(&self, request: &Request) -> Result<Plan> {
        plan::plan(
            &request.server,
            request.way,
            &request.answers,
            &self.toolbox,
            &self.packages_dir(),
        )
    }

    /// Downloaded bundles waiting for their install (`data/cache/bundles/`).
    fn bundle_cache(&self) -> PathBuf {
        self.paths.data_dir.join("cache").join("bundles")
    }

    /// The form for a request's way. For a bundle, its own `user_config` too: the bundle is
    /// downloaded and checked for that, and kept for the install.
    pub async fn fields(&self, request: &Request) -> Result<Vec<Field>> {
        let way = match request.way {
            Some(way) => way,
            // A missing runtime is the plan's to explain; there is no form to show.
            None => match plan::choose_way(&request.server, &self.toolbox) {
                Ok(way) => way,
                Err(_) => return Ok(Vec::new()),
            },
        };
        let mut fields = inputs::fields(&request.server, way);
        let plan = self.plan(&Request { answers: Vec::new(), way: Some(way), ..request.clone() });
        if let Ok(Plan { start: Start::Bundle { url, sha256, .. }, .. }) = &plan {
            let cache = self.bundle_cache();
            let bytes = bundle::download_cached(url, sha256, &cache, self.step_timeout).await?;
            fields.extend(bundle::fields(&bundle::manifest_of(&bytes)?, &self.home()));
        }
        Ok(fields)
    }

    /// Installs `request`: fetch, verify, then register. `progress` is told every step.
    pub async fn install(
        &self,
        request: Request,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<Installed> {
        let name = self.name_for(&request)?;
        if self.record(&name)?.is_some() {
            return Err(Error::OrphanRecord(name.to_string()));
        }
        let plan = self.plan(&request)?;
        let total = plan.steps.len() + 3;
        let (built, verified) = self
            .fetch_and_verify(&name, &request, &plan, (total - 2, total), None, progress)
            .await?;
        // From here on every step registers its undo; any failure before `commit` undoes all.
        let mut rollback = Rollback::new();
        let packages = self.packages_dir();
        let package_dir = built.package_dir.clone();
        rollback.on_failure("remove the fetched package", move || {
            remove_package_dir(&packages, package_dir.as_deref(), None);
        });
        progress(Progress {
            step: total - 1,
            total,
            label: format!(
                "found {} tools; storing secrets and pinning tools",
                verified.tools.len()
            ),
            detail: None,
        });
        let store = (!built.secrets.is_empty()).then(|| SecretStore::open(&self.paths));
        let record = InstallRecord {
            entry: request.server.name.clone(),
            version: request.server.version.clone(),
            runtime: runtime_of(&request.server, plan.way),
            package_dir: built.package_dir.clone(),
            secrets: built.secrets.keys().cloned().collect(),
            answers: non_secret_answers(&request, &built.secret_fields),
            installed_at_ms: self.clock.now_ms(),
        };
        if let Some(store) = &store {
            let (forget, owner, keys) = (store.clone(), name.clone(), record.secrets.clone());
            rollback.on_failure("delete the secrets", move || {
                if let Err(e) = forget.delete(&owner, &keys) {
                    tracing::warn!("could not delete {owner}'s secrets: {e}");
                }
            });
            for (key, value) in &built.secrets {
                store.set(&name, key, value)?;
            }
        }
        let pins = Pins::new(&self.paths.data_dir);
        let (unpin, owner) = (pins.clone(), name.clone());
        rollback.on_failure("remove the pins", move || {
            let _ = unpin.remove(&owner);
        });
        pins.approve_tools(&name, verified.pins.clone(), self.clock.now_ms())?;
        let record_path = self.record_path(&name);
        rollback.on_failure("remove the install record", move || {
            let _ = std::fs::remove_file(record_path);
        });
        self.save_record(&name, &record)?;
        // Last: the registry entry is what makes it "installed".
        Registry::new(&self.paths).add(name.clone(), built.spec.clone())?;
        rollback.commit();
        progress(Progress { step: total, total, label: format!("installed {name}"), detail: None });
        let mut notes = plan.notes.clone();
        notes.extend(built.notes.iter().cloned());
        Ok(Installed {
            name: name.to_string(),
            entry: record.entry,
            version: record.version,
            command: built.command,
            flags: verified.pins.iter().flat_map(flags).collect(),
            tools: verified.tools,
            notes,
            secret_store: store.map(|s| s.describe()),
            protocol: verified.protocol,
        })
    }
}

/// The words of how a spec starts, secrets left out (they are not in the spec).
fn shown(spec: &ServerSpec) -> Vec<String> {
    match &spec.launch {
        Launch::Stdio { command, args, .. } => {
            std::iter::once(command.clone()).chain(args.iter().cloned()).collect()
        }
        Launch::Remote { url, .. } => vec![url.clone()],
    }
}

fn runtime_of(server: &ServerJson, way: Way) -> String {
    match way {
        Way::Package(i) => {
            server.packages.get(i).map(|p| p.registry_type.as_str().to_owned()).unwrap_or_default()
        }
        Way::Remote(_) => "remote".into(),
    }
}

fn non_secret_answers(request: &Request, secret_fields: &[String]) -> Vec<(String, String)> {
    request.answers.iter().filter(|(k, _)| !secret_fields.contains(k)).cloned().collect()
}

mod fetch;
mod uninstall;
mod update;
mod verify;

use fetch::remove_package_dir;
use verify::Verified;

pub use update::PreparedUpdate;

#[cfg(test)]
mod tests {
    use super::fetch::{npm_entry_point, uv_entry_point};
    use super::*;

    #[tokio::test]
    async fn the_form_asks_for_required_inputs_before_any_answer_is_given() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut installer = Installer::new(&Paths::under(dir.path()), &Env::default());
        installer.toolbox = Toolbox {
            node: Some("/opt/node/bin/node".into()),
            npm: Some("/opt/node/bin/npm".into()),
            ..Toolbox::default()
        };
        let catalog = switchboard_catalog::Catalog::bundled().expect("catalog");
        let server = catalog.find("filesystem").expect("filesystem").server.clone();
        let request = Request { server, name: None, way: None, answers: Vec::new() };
        let fields = installer.fields(&request).await.expect("fields");
        assert_eq!(
            fields.iter().map(|f| f.key.as_str()).collect::<Vec<_>>(),
            ["allowed_directory"]
        );
        assert!(fields[0].required && fields[0].repeated);
        // Without node there is no way to run it here, so no form (the plan says what to install).
        installer.toolbox = Toolbox::default();
        assert!(installer.fields(&request).await.expect("fields").is_empty());
    }

    #[tokio::test]
    async fn a_bundles_own_form_is_read_from_its_checked_download_and_kept_for_the_install() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut bytes = Vec::new();
        {
            let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut bytes));
            zip.start_file("manifest.json", zip::write::SimpleFileOptions::default()).expect("zip");
            let manifest = serde_json::json!({"name": "b", "version": "1",
                "server": {"type": "binary", "mcp_config": {"command": "${__dirname}/run"}},
                "user_config": {"api_key": {"type": "string", "sensitive": true, "required": true}}});
            std::io::Write::write_all(&mut zip, manifest.to_string().as_bytes()).expect("zip");
            zip.finish().expect("zip");
        }
        let file = dir.path().join("b.mcpb");
        std::fs::write(&file, &bytes).expect("write");
        let sha = switchboard_core::digest::sha256(&bytes);
        let server: ServerJson = serde_json::from_value(serde_json::json!({
            "name": "io.example/b", "description": "d", "version": "1",
            "packages": [{"registryType": "mcpb", "identifier": format!("file://{}", file.display()),
                          "fileSha256": sha, "transport": {"type": "stdio"}}]
        }))
        .expect("entry");
        let installer = Installer::new(&Paths::under(&dir.path().join("home")), &Env::default());
        let request =
            Request { server: server.clone(), name: None, way: None, answers: Vec::new() };
        let fields = installer.fields(&request).await.expect("fields");
        assert_eq!(fields.len(), 1);
        assert!(fields[0].key == "api_key" && fields[0].secret && fields[0].required);
        assert!(installer.bundle_cache().join(format!("{sha}.mcpb")).is_file());

        // A bundle whose bytes changed since the entry was written is refused, form or not.
        std::fs::write(&file, b"not the bundle").expect("write");
        std::fs::remove_dir_all(installer.bundle_cache()).expect("clear the cache");
        let error = installer.fields(&request).await.expect_err("refused");
        assert!(error.to_string().contains("does not match its fileSha256"), "{error}");
    }

    #[test]
    fn local_names_come_from_the_part_after_the_slash() {
        assert_eq!(
            local_name("io.github.modelcontextprotocol/server-everything"),
            "server-everything"
        );
        assert_eq!(local_name("com.example/My Weather_API"), "my-weather_api");
        assert_eq!(local_name("io.example/--dashes"), "dashes");
        assert_eq!(local_name("io.example/!!!"), "server");
        assert!(local_name(&format!("io.example/{}", "x".repeat(100))).len() <= 64);
    }

    fn package(dir: &Path, name: &str, manifest: serde_json::Value, files: &[&str]) -> PathBuf {
        let root = dir.join("node_modules").join(name);
        std::fs::create_dir_all(&root).expect("mkdir");
        std::fs::write(root.join("package.json"), manifest.to_string()).expect("write");
        for f in files {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, "#!/usr/bin/env node\n").expect("write");
        }
        root
    }

    #[test]
    fn the_npm_entry_point_is_the_bin_named_like_the_package_else_the_only_or_main() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path();
        let root = package(
            p,
            "@scope/tool-server",
            serde_json::json!({"bin": {"tool-cli": "cli.js", "tool-server": "dist/server.js"}}),
            &["cli.js", "dist/server.js"],
        );
        assert_eq!(
            npm_entry_point(p, "@scope/tool-server").expect("bin"),
            root.join("dist/server.js")
        );
        let root =
            package(p, "single", serde_json::json!({"bin": "./bin/run.js"}), &["bin/run.js"]);
        assert_eq!(npm_entry_point(p, "single").expect("bin"), root.join("./bin/run.js"));
        let root = package(p, "mainonly", serde_json::json!({"main": "index.js"}), &["index.js"]);
        assert_eq!(npm_entry_point(p, "mainonly").expect("main"), root.join("index.js"));
        package(p, "missing", serde_json::json!({"bin": "gone.js"}), &[]);
        let error = npm_entry_point(p, "missing").expect_err("missing");
        assert!(error.to_string().contains("is missing"), "{error}");
        let error = npm_entry_point(p, "never-installed").expect_err("absent");
        assert!(error.to_string().contains("npm did not install never-installed"), "{error}");
    }

    #[test]
    fn the_uv_entry_point_is_the_executable_named_like_the_package() {
        let dir = tempfile::tempdir().expect("tempdir");
        for exe in ["mcp-server-time", "helper"] {
            std::fs::write(dir.path().join(exe), "").expect("write");
        }
        assert_eq!(
            uv_entry_point(dir.path(), "mcp_server_time").expect("exe"),
            dir.path().join("mcp-server-time")
        );
        let error = uv_entry_point(dir.path(), "other").expect_err("ambiguous");
        assert!(error.to_string().contains("none is named other"), "{error}");
    }

    #[test]
    fn a_package_folder_outside_ours_or_shared_with_another_install_is_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = Paths::under(dir.path());
        let installer = Installer::new(&paths, &Env::default());
        let packages = installer.packages_dir();
        let outside = dir.path().join("elsewhere");
        std::fs::create_dir_all(&outside).expect("mkdir");
        assert!(!remove_package_dir(&packages, Some(&outside), None));
        assert!(outside.exists());

        let shared = packages.join("npm").join("x@1");
        std::fs::create_dir_all(&shared).expect("mkdir");
        let record = |name: &str| {
            let r = InstallRecord {
                entry: "io.example/x".into(),
                version: "1".into(),
                runtime: "npm".into(),
                package_dir: Some(shared.clone()),
                secrets: Vec::new(),
                answers: Vec::new(),
                installed_at_ms: 0,
            };
            installer.save_record(&name.parse().expect("name"), &r).expect("record");
        };
        record("first");
        record("second");
        let first: ServerName = "first".parse().expect("name");
        assert!(!remove_package_dir(&packages, Some(&shared), Some((&installer, &first))));
        assert!(shared.exists(), "the second install still uses it");
        std::fs::remove_file(installer.record_path(&"second".parse().expect("name"))).expect("rm");
        assert!(remove_package_dir(&packages, Some(&shared), Some((&installer, &first))));
        assert!(!shared.exists());
    }
}
