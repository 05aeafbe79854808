//! The install plan: which way of running an entry is used (the first package whose runtime is
//! here, else a remote), the exact commands that fetch it ahead of time into folders Switchboard
//! owns, and how the server will then be started. Nothing runs here; the plan is what the CLI
//! and the install dialog show before anything does.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde::Serialize;

use super::inputs::{self, Resolved, Way};
use crate::{Error, Result};
use switchboard_catalog::{Package, RegistryType, ServerJson};
use switchboard_core::spec::RemoteTransport;

/// The programs installs use, where they were found (on the PATH given, then the login shell's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Toolbox {
    pub node: Option<PathBuf>,
    pub npm: Option<PathBuf>,
    pub uv: Option<PathBuf>,
    /// docker, else podman.
    pub container: Option<PathBuf>,
}

impl Toolbox {
    /// Looks the programs up on the search's PATH (and its login shell's PATH).
    pub fn find(search: switchboard_core::process::Search<'_>) -> Toolbox {
        let find =
            |p: &str| switchboard_core::process::resolve(p, None, search).ok().map(|r| r.program);
        Toolbox {
            node: find("node"),
            npm: find("npm"),
            uv: find("uv"),
            container: find("docker").or_else(|| find("podman")),
        }
    }

    /// What `registry` needs that is missing, as advice; `None` when it can be installed.
    pub fn missing_for(&self, registry: &RegistryType) -> Option<String> {
        match registry {
            RegistryType::Npm if self.node.is_none() || self.npm.is_none() => Some(
                "Node.js (node and npm): install it from https://nodejs.org or your package \
                 manager (apt install nodejs npm)"
                    .into(),
            ),
            RegistryType::Pypi if self.uv.is_none() => Some(
                "uv: install it from https://docs.astral.sh/uv/ (pipx install uv, or \
                 curl -LsSf https://astral.sh/uv/install.sh | sh)"
                    .into(),
            ),
            RegistryType::Oci if self.container.is_none() => Some(
                "Docker or Podman: install one from https://docs.docker.com/get-docker/".into(),
            ),
            RegistryType::Npm | RegistryType::Pypi | RegistryType::Oci | RegistryType::Mcpb => None,
            other => Some(format!(
                "support for {} packages, which Switchboard does not install yet",
                other.as_str()
            )),
        }
    }
}

/// One command an install runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// What it does, for the progress line.
    pub label: String,
    /// The program and its arguments, run without a shell.
    pub argv: Vec<String>,
    /// Extra environment for it (never secrets).
    pub env: BTreeMap<String, String>,
}

/// How the installed server starts, before the entry point is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Start {
    /// `node` on the package's `bin` script inside `prefix` (read from its package.json after
    /// the install).
    NodePackage { node: PathBuf, prefix: PathBuf, package: String },
    /// The executable `uv tool install` put in `bin_dir` for `package`.
    UvTool { bin_dir: PathBuf, tool_dir: PathBuf, package: String },
    /// A fixed command (docker run …).
    Command { command: String, args: Vec<String> },
    /// A remote server.
    Remote { url: String, transport: RemoteTransport, headers: BTreeMap<String, String> },
    /// An MCPB bundle: downloaded from `url`, checked against `sha256`, unpacked into `dir`;
    /// its manifest says how it starts.
    Bundle { url: String, sha256: String, dir: PathBuf },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The catalog entry, and the version installed.
    pub entry: String,
    pub version: String,
    pub way: Way,
    /// Commands that fetch the package ahead of time.
    pub steps: Vec<Step>,
    pub start: Start,
    /// Arguments after the entry point (package arguments).
    pub args: Vec<String>,
    /// The server's environment; secret values are in it until they are moved to the keychain.
    #[serde(skip)]
    pub env: BTreeMap<String, String>,
    /// Names of env variables and headers whose values are secrets.
    pub secret_env: Vec<String>,
    pub secret_headers: Vec<String>,
    /// Notes for the user (a secret on the command line, a way skipped for a missing runtime).
    pub notes: Vec<String>,
    /// Where the package is kept (removed again on uninstall).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_dir: Option<PathBuf>,
}

/// A folder name for a package and version: safe on every OS, one per version. Both come from
/// the catalog entry, so both are cleaned: a version such as `1/../../x` must not name a folder
/// outside the packages folder (which an uninstall removes).
pub fn package_folder(identifier: &str, version: &str) -> String {
    let clean = |text: &str| -> String {
        text.chars()
            .map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' })
            .collect()
    };
    format!("{}@{}", clean(identifier.trim_start_matches('@')), clean(version))
}

/// The plan for installing `server` with `answers`: `way` when given, else the first package
/// whose runtime is here, else the first remote. `packages_dir` is `<data>/packages`.
pub fn plan(
    server: &ServerJson,
    way: Option<Way>,
    answers: &[(String, String)],
    tools: &Toolbox,
    packages_dir: &Path,
) -> Result<Plan> {
    let mut notes = Vec::new();
    let way = match way {
        Some(w) => w,
        None => choose(server, tools, &mut notes)?,
    };
    // A bundle's own inputs (its manifest's user_config) are known only once it is unpacked;
    // the installer checks the answers then.
    let bundle = matches!(way, Way::Package(i)
        if server.packages.get(i).is_some_and(|p| p.registry_type == RegistryType::Mcpb));
    let problems = if bundle { Vec::new() } else { inputs::check(server, way, answers) };
    if !problems.is_empty() {
        return Err(Error::InvalidInputs { name: server.name.clone(), problems });
    }
    let resolved = inputs::resolve(server, way, answers);
    if resolved.secret_args {
        notes.push(
            "a secret is passed as a command-line argument (the entry declares it so); other \
             programs of yours can see it in the process list"
                .into(),
        );
    }
    let mut plan = Plan {
        entry: server.name.clone(),
        version: server.version.clone(),
        way,
        steps: Vec::new(),
        start: Start::Command { command: String::new(), args: Vec::new() },
        args: resolved.package_args.clone(),
        env: resolved.env.clone(),
        secret_env: resolved.secret_env.clone(),
        secret_headers: resolved.secret_headers.clone(),
        notes,
        package_dir: None,
    };
    match way {
        Way::Remote(i) => {
            let remote = server.remotes.get(i).ok_or_else(|| no_way(server))?;
            plan.start = Start::Remote {
                url: resolved.url.clone().unwrap_or_else(|| remote.url.clone()),
                transport: transport_of(&remote.kind)?,
                headers: resolved.headers.clone(),
            };
            plan.args.clear();
        }
        Way::Package(i) => {
            let package = server.packages.get(i).ok_or_else(|| no_way(server))?;
            if let Some(missing) = tools.missing_for(&package.registry_type) {
                return Err(Error::CannotInstall {
                    name: server.name.to_string(),
                    why: format!("{} needs {missing}. Nothing was installed", server.name),
                });
            }
            if package.transport.kind != "stdio" {
                return Err(Error::CannotInstall {
                    name: server.name.to_string(),
                    why: format!(
                        "{}'s {} package serves {} on a port of its own; Switchboard installs \
                     packages that speak stdio (use one of its remotes, if it has any)",
                        server.name,
                        package.registry_type.as_str(),
                        package.transport.kind
                    ),
                });
            }
            package_plan(&mut plan, package, &resolved, tools, packages_dir)?;
        }
    }
    Ok(plan)
}

fn no_way(server: &ServerJson) -> Error {
    Error::CannotInstall {
        name: server.name.to_string(),
        why: format!("{} has no such package or remote", server.name),
    }
}

fn transport_of(kind: &str) -> Result<RemoteTransport> {
    match kind {
        "streamable-http" => Ok(RemoteTransport::StreamableHttp),
        "sse" => Ok(RemoteTransport::Sse),
        other => Err(Error::UnknownTransport(other.to_string())),
    }
}

/// The way `plan` would choose for `server` with these runtimes (the answers do not matter).
pub fn choose_way(server: &ServerJson, tools: &Toolbox) -> Result<Way> {
    choose(server, tools, &mut Vec::new())
}

/// The first package whose runtime is here, else the first remote; an error naming what to
/// install when there is neither.
fn choose(server: &ServerJson, tools: &Toolbox, notes: &mut Vec<String>) -> Result<Way> {
    let mut missing = Vec::new();
    for (i, p) in server.packages.iter().enumerate() {
        if p.transport.kind != "stdio" {
            continue;
        }
        match tools.missing_for(&p.registry_type) {
            None => return Ok(Way::Package(i)),
            Some(m) => missing.push(format!("its {} package needs {m}", p.registry_type.as_str())),
        }
    }
    if !server.remotes.is_empty() {
        notes.extend(missing.iter().map(|m| format!("using its remote server: {m}")));
        return Ok(Way::Remote(0));
    }
    Err(Error::CannotInstall {
        name: server.name.clone(),
        why: if missing.is_empty() {
            format!("{} has no package Switchboard can install and no remote", server.name)
        } else {
            format!(
                "{} cannot be installed here: {}. Nothing was installed",
                server.name,
                missing.join("; ")
            )
        },
    })
}

fn package_plan(
    plan: &mut Plan,
    package: &Package,
    resolved: &Resolved,
    tools: &Toolbox,
    packages_dir: &Path,
) -> Result<()> {
    let version = package.version.clone().unwrap_or_default();
    let show = |p: &Option<PathBuf>| {
        p.as_ref().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default()
    };
    match &package.registry_type {
        RegistryType::Npm => {
            let prefix =
                packages_dir.join("npm").join(package_folder(&package.identifier, &version));
            let spec = format!("{}@{version}", package.identifier);
            let mut argv = vec![show(&tools.npm), "install".into(), "--prefix".into()];
            argv.push(prefix.to_string_lossy().into_owned());
            argv.extend(
                ["--no-audit", "--no-fund", "--no-save", "--loglevel=error"].map(String::from),
            );
            argv.push(spec.clone());
            if !resolved.runtime_args.is_empty() {
                plan.notes.push(format!(
                    "the entry's npx arguments ({}) do not apply: the package is installed ahead \
                     of time and run with node directly",
                    resolved.runtime_args.join(" ")
                ));
            }
            plan.steps.push(Step {
                label: format!("npm install {spec}"),
                argv,
                env: BTreeMap::new(),
            });
            plan.start = Start::NodePackage {
                node: tools.node.clone().unwrap_or_default(),
                prefix: prefix.clone(),
                package: package.identifier.clone(),
            };
            plan.package_dir = Some(prefix);
        }
        RegistryType::Pypi => {
            let root = packages_dir.join("uv").join(package_folder(&package.identifier, &version));
            let (tool_dir, bin_dir) = (root.join("tools"), root.join("bin"));
            let spec = format!("{}=={version}", package.identifier);
            let mut argv = vec![show(&tools.uv), "tool".into(), "install".into(), "--force".into()];
            argv.extend(resolved.runtime_args.iter().cloned());
            argv.push(spec.clone());
            let env = BTreeMap::from([
                ("UV_TOOL_DIR".to_string(), tool_dir.to_string_lossy().into_owned()),
                ("UV_TOOL_BIN_DIR".to_string(), bin_dir.to_string_lossy().into_owned()),
            ]);
            plan.steps.push(Step { label: format!("uv tool install {spec}"), argv, env });
            plan.start = Start::UvTool { bin_dir, tool_dir, package: package.identifier.clone() };
            plan.package_dir = Some(root);
        }
        RegistryType::Oci => {
            let image = if package.identifier.contains(':')
                || package.identifier.contains('@')
                || version.is_empty()
            {
                package.identifier.clone()
            } else {
                format!("{}:{version}", package.identifier)
            };
            let program = show(&tools.container);
            plan.steps.push(Step {
                label: format!("pull {image}"),
                argv: vec![program.clone(), "pull".into(), image.clone()],
                env: BTreeMap::new(),
            });
            // The container gets each env variable by name from docker's own environment, so
            // no value appears on the command line.
            let mut args = vec!["run".to_string(), "-i".into(), "--rm".into()];
            args.extend(resolved.runtime_args.iter().cloned());
            for name in resolved.env.keys() {
                args.extend(["-e".to_string(), name.clone()]);
            }
            args.push(image);
            args.extend(resolved.package_args.iter().cloned());
            plan.start = Start::Command { command: program, args };
            plan.args.clear();
        }
        RegistryType::Mcpb => {
            let sha256 = package.file_sha256.clone().ok_or_else(|| Error::CannotInstall {
                name: plan.entry.to_string(),
                why: format!(
                    "{}'s MCPB bundle has no fileSha256; Switchboard installs only bundles it \
                     can check",
                    plan.entry
                ),
            })?;
            let dir = super::bundle::bundle_dir(
                packages_dir,
                &package_folder(&plan.entry.replace('/', "-"), &version),
            );
            plan.steps.push(Step {
                label: format!("download {} and check its SHA-256", package.identifier),
                argv: Vec::new(),
                env: BTreeMap::new(),
            });
            plan.start =
                Start::Bundle { url: package.identifier.clone(), sha256, dir: dir.clone() };
            plan.package_dir = Some(dir);
        }
        other => {
            return Err(Error::CannotInstall {
                name: plan.entry.to_string(),
                why: format!("{} packages cannot be installed yet", other.as_str()),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
