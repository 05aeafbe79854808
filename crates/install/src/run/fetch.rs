//! Fetching a package ahead of time and working out how it starts: npm into a prefix of ours,
//! uv into tool folders of ours, `docker pull`, or an MCPB bundle checked against its SHA-256
//! and unpacked; a package folder is removed again when what it was fetched for failed.

use super::*;

impl Installer {
    /// Fetches, then verifies at progress step `at` (step, total); a failed verification
    /// removes the fetched package unless it is `keep` (the one an update started from).
    pub(super) async fn fetch_and_verify(
        &self,
        name: &ServerName,
        request: &Request,
        plan: &Plan,
        at: (usize, usize),
        keep: Option<&Path>,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<(Built, Verified)> {
        let built = self.fetch(name, request, plan, at.1, progress).await?;
        progress(Progress {
            step: at.0,
            total: at.1,
            label: "verifying: start, handshake, list tools".into(),
            detail: None,
        });
        match self.verify(&built.launch).await {
            Ok(verified) => Ok((built, verified)),
            Err(e) => {
                if built.package_dir.as_deref() != keep {
                    remove_package_dir(&self.packages_dir(), built.package_dir.as_deref(), None);
                }
                Err(e)
            }
        }
    }

    /// Runs the plan's fetch steps and works out how the server starts.
    pub(super) async fn fetch(
        &self,
        name: &ServerName,
        request: &Request,
        plan: &Plan,
        total: usize,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<Built> {
        for (i, step) in plan.steps.iter().enumerate() {
            let report = |detail: Option<String>| {
                progress(Progress { step: i + 1, total, label: step.label.clone(), detail })
            };
            report(None);
            if step.argv.is_empty() {
                continue; // the bundle download, done below
            }
            let spec = CommandSpec {
                program: step.argv[0].clone(),
                args: step.argv[1..].to_vec(),
                env: step.env.clone(),
                cwd: None,
                inherit: process::Inherit::All,
            };
            let finished =
                process::run_to_end(&spec, self.env.search(), self.step_timeout, |line| {
                    report(Some(line.to_owned()));
                })
                .await;
            let failure = match finished {
                Ok(f) if f.success => None,
                Ok(f) => Some(format!(
                    "{} {}{}",
                    step.label,
                    f.status,
                    if f.tail.is_empty() {
                        String::new()
                    } else {
                        format!(":\n{}", f.tail.join("\n"))
                    }
                )),
                Err(e) => Some(format!("{}: {e}", step.label)),
            };
            if let Some(why) = failure {
                remove_package_dir(&self.packages_dir(), plan.package_dir.as_deref(), None);
                return Err(Error::Failed(format!("{why}. Nothing was installed")));
            }
        }
        let built = self.build(name, request, plan).await;
        if built.is_err() {
            remove_package_dir(&self.packages_dir(), plan.package_dir.as_deref(), None);
        }
        built
    }

    /// The spec to register, from the fetched package.
    pub(super) async fn build(
        &self,
        name: &ServerName,
        request: &Request,
        plan: &Plan,
    ) -> Result<Built> {
        let mut secrets = BTreeMap::new();
        for key in &plan.secret_env {
            if let Some(v) = plan.env.get(key) {
                secrets.insert(key.clone(), v.clone());
            }
        }
        let mut notes = Vec::new();
        let (launch, package_dir) = match &plan.start {
            Start::NodePackage { node, prefix, package } => {
                let script = npm_entry_point(prefix, package)?;
                let mut args = vec![script.to_string_lossy().into_owned()];
                args.extend(plan.args.iter().cloned());
                (
                    stdio(node.to_string_lossy().into_owned(), args, plan.env.clone(), None),
                    Some(prefix.clone()),
                )
            }
            Start::UvTool { bin_dir, package, .. } => {
                let exe = uv_entry_point(bin_dir, package)?;
                let root = bin_dir.parent().map(Path::to_path_buf);
                (
                    stdio(
                        exe.to_string_lossy().into_owned(),
                        plan.args.clone(),
                        plan.env.clone(),
                        None,
                    ),
                    root,
                )
            }
            Start::Command { command, args } => {
                (stdio(command.clone(), args.clone(), plan.env.clone(), None), None)
            }
            Start::Remote { url, transport, headers } => {
                for key in &plan.secret_headers {
                    if let Some(v) = headers.get(key) {
                        secrets.insert(key.clone(), v.clone());
                    }
                }
                (
                    Launch::Remote {
                        url: url.clone(),
                        transport: *transport,
                        headers: headers.clone(),
                    },
                    None,
                )
            }
            Start::Bundle { url, sha256, dir } => {
                let (launch, bundle_secrets, bundle_notes) =
                    self.unpack_bundle(name, request, plan, url, sha256, dir).await?;
                secrets.extend(bundle_secrets);
                notes.extend(bundle_notes);
                (launch, Some(dir.clone()))
            }
        };
        // Secret answers are kept too (in the store), so an update can fill the form again.
        let mut form = inputs::fields(&request.server, plan.way);
        if let Start::Bundle { dir, .. } = &plan.start {
            form.extend(bundle::fields(&bundle::read_manifest(dir)?, &self.home()));
        }
        let secret_fields: Vec<String> =
            form.into_iter().filter(|f| f.secret).map(|f| f.key).collect();
        for key in &secret_fields {
            for (_, v) in request.answers.iter().filter(|(k, _)| k == key) {
                secrets.insert(format!("input:{key}"), v.clone());
            }
        }
        let mut spec = ServerSpec { launch: launch.clone(), ..ServerSpec::stdio("", Vec::new()) };
        spec.lazy = self.lazy;
        spec.secrets = secrets.keys().filter(|k| !k.starts_with("input:")).cloned().collect();
        match &mut spec.launch {
            Launch::Stdio { env, .. } => spec.secrets.iter().for_each(|k| {
                env.remove(k);
            }),
            Launch::Remote { headers, .. } => spec.secrets.iter().for_each(|k| {
                headers.remove(k);
            }),
        }
        spec.validate()?;
        Ok(Built {
            command: shown(&spec),
            spec,
            launch,
            secrets,
            notes,
            package_dir,
            secret_fields,
        })
    }

    pub(super) async fn unpack_bundle(
        &self,
        name: &ServerName,
        request: &Request,
        plan: &Plan,
        url: &str,
        sha256: &str,
        dir: &Path,
    ) -> Result<(Launch, BTreeMap<String, String>, Vec<String>)> {
        let cache = self.bundle_cache();
        let bytes = bundle::download_cached(url, sha256, &cache, self.step_timeout).await?;
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(Error::io("removing", dir))?;
        }
        let manifest = bundle::unpack(&bytes, dir)?;
        bundle::forget_cached(sha256, &cache);
        let mut fields = inputs::fields(&request.server, plan.way);
        fields.extend(bundle::fields(&manifest, &self.home()));
        let problems = inputs::check_fields(&fields, &request.server.name, &request.answers);
        if !problems.is_empty() {
            return Err(Error::InvalidInputs { name: name.to_string(), problems });
        }
        let command = bundle::command(&manifest, dir, &request.answers, &self.home());
        let mut env = plan.env.clone();
        env.extend(command.env.clone());
        let mut secrets = BTreeMap::new();
        for key in &command.secret_env {
            if let Some(v) = env.get(key) {
                secrets.insert(key.clone(), v.clone());
            }
        }
        let program = match (manifest.server.kind.as_str(), command.command.as_str()) {
            ("node", "node") => self
                .toolbox
                .node
                .as_ref()
                .map(|p| p.to_string_lossy().into_owned())
                .ok_or_else(|| Error::Failed(format!("{name} is a Node.js bundle and needs node, which was not found. Nothing was installed")))?,
            _ => command.command.clone(),
        };
        let mut args = command.args.clone();
        args.extend(plan.args.iter().cloned());
        let mut notes = vec![format!(
            "bundle {} {} unpacked into {} (SHA-256 checked)",
            manifest.name,
            manifest.version,
            dir.display()
        )];
        if command.secret_args {
            notes.push("a secret is passed as a command-line argument (the bundle declares it so); other programs of yours can see it in the process list".into());
        }
        Ok((stdio(program, args, env, Some(dir.to_path_buf())), secrets, notes))
    }
}

fn stdio(
    command: String,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    cwd: Option<PathBuf>,
) -> Launch {
    Launch::Stdio { command, args, env, cwd }
}

/// The script npm installed for `package`: its `bin` (the one named like the package when
/// there are several), else its `main`.
pub(super) fn npm_entry_point(prefix: &Path, package: &str) -> Result<PathBuf> {
    let dir = prefix.join("node_modules").join(package);
    let manifest_path = dir.join("package.json");
    let text = std::fs::read(&manifest_path).map_err(|e| {
        Error::Failed(format!("npm did not install {package} into {} ({e})", prefix.display()))
    })?;
    let manifest: serde_json::Value = serde_json::from_slice(&text).map_err(|e| {
        Error::Failed(format!("{} is not valid JSON: {e}", manifest_path.display()))
    })?;
    let short = package.rsplit('/').next().unwrap_or(package);
    let relative = match manifest.get("bin") {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Object(bins)) => bins
            .get(short)
            .or_else(|| bins.get(package))
            .or_else(|| (bins.len() == 1).then(|| bins.values().next()).flatten())
            .or_else(|| bins.iter().min_by_key(|(k, _)| k.len()).map(|(_, v)| v))
            .and_then(|v| v.as_str().map(str::to_owned)),
        _ => None,
    }
    .or_else(|| manifest.get("main").and_then(|m| m.as_str()).map(str::to_owned));
    let relative = relative.ok_or_else(|| {
        Error::Failed(format!("{package} declares no bin script or main file to start"))
    })?;
    let script = dir.join(relative);
    if !script.is_file() {
        return Err(Error::Failed(format!(
            "{package}'s entry point {} is missing",
            script.display()
        )));
    }
    Ok(script)
}

/// The executable `uv tool install` put in `bin_dir` for `package`.
pub(super) fn uv_entry_point(bin_dir: &Path, package: &str) -> Result<PathBuf> {
    let wanted = package.to_lowercase().replace('_', "-");
    let mut found: Vec<PathBuf> = std::fs::read_dir(bin_dir)
        .map_err(|e| {
            Error::Failed(format!("uv installed nothing into {} ({e})", bin_dir.display()))
        })?
        .flatten()
        .map(|e| e.path())
        .collect();
    found.sort();
    let stem =
        |p: &PathBuf| p.file_stem().map(|s| s.to_string_lossy().to_lowercase()).unwrap_or_default();
    found
        .iter()
        .find(|p| stem(p) == wanted)
        .or_else(|| (found.len() == 1).then(|| &found[0]))
        .cloned()
        .ok_or_else(|| {
            Error::Failed(format!(
                "uv installed {} executables for {package} and none is named {wanted}",
                found.len()
            ))
        })
}

/// Removes a package folder, only inside `packages_dir`, and (when `keep_for` names the
/// server going away) only if no other install record uses it. True when it was removed.
pub(super) fn remove_package_dir(
    packages_dir: &Path,
    dir: Option<&Path>,
    keep_for: Option<(&Installer, &ServerName)>,
) -> bool {
    let Some(dir) = dir else { return false };
    if !dir.starts_with(packages_dir) || !dir.exists() {
        return false;
    }
    if let Some((installer, me)) = keep_for
        && let Ok(entries) = std::fs::read_dir(installer.paths.data_dir.join("installs"))
    {
        for entry in entries.flatten() {
            let other = entry.path();
            if other.file_stem().is_some_and(|s| s != me.as_str())
                && let Ok(bytes) = std::fs::read(&other)
                && let Ok(record) = serde_json::from_slice::<InstallRecord>(&bytes)
                && record.package_dir.as_deref() == Some(dir)
            {
                return false;
            }
        }
    }
    match std::fs::remove_dir_all(dir) {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!("could not remove {}: {e}", dir.display());
            false
        }
    }
}
