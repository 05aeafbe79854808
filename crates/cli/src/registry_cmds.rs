//! `add`, `list`, `show`, `remove`: they edit the registry file under its lock, then ask a
//! running owner (if any) to reload it.

use std::path::PathBuf;
use switchboard_core::clock::{Clock, SystemClock};

use clap::Args;
use switchboard_api as api;
use switchboard_core::{
    Paths, Registry, RemoteTransport, RestartPolicy, ServerName, ServerSpec,
    spec::{Launch, parse_key_value},
};
use switchboard_runtime::control::ControlClient;

use crate::{
    output::{self, Usage},
    owner_cmds::notify_owner,
};

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Lowercase letters, digits, '-', '_' and '.'.
    name: String,
    /// Environment variable for the server (repeatable).
    #[arg(long = "env", value_name = "K=V")]
    env: Vec<String>,
    /// Working directory for the server.
    #[arg(long)]
    cwd: Option<PathBuf>,
    /// What to do when the server exits on its own.
    #[arg(long, value_name = "never|on-failure|always")]
    restart: Option<RestartPolicy>,
    /// Start it on a host's first call through the gateway rather than with its owner, and stop
    /// it again after the `idleStopSeconds` setting without calls.
    #[arg(long)]
    lazy: bool,
    /// It cannot be shared by several hosts (it keeps state per client): each host session
    /// through the gateway gets a process of its own, stopped when the session ends.
    #[arg(long)]
    per_session: bool,
    /// Register it disabled (not started with its owner).
    #[arg(long)]
    disabled: bool,
    /// A remote server's URL, instead of a command.
    #[arg(long, conflicts_with_all = ["command", "env", "cwd"])]
    url: Option<String>,
    /// The remote transport.
    #[arg(long, requires = "url", value_name = "streamable-http|sse")]
    transport: Option<RemoteTransport>,
    /// HTTP header for a remote server (repeatable).
    #[arg(long = "header", value_name = "K=V", requires = "url")]
    headers: Vec<String>,
    /// The command and its arguments, after `--`.
    #[arg(last = true, value_name = "CMD")]
    command: Vec<String>,
}

pub async fn add(ctx: &api::Context, args: AddArgs) -> anyhow::Result<()> {
    let name: ServerName = args.name.parse()?;
    let mut spec = match (args.url, args.command.split_first()) {
        (Some(url), _) => {
            let mut spec = ServerSpec::remote(url, args.transport.unwrap_or_default());
            if let Launch::Remote { headers, .. } = &mut spec.launch {
                for pair in &args.headers {
                    let (k, v) = parse_key_value(pair)?;
                    headers.insert(k, v);
                }
            }
            spec
        }
        (None, Some((command, rest))) => {
            let mut spec = ServerSpec::stdio(command.clone(), rest.to_vec());
            if let Launch::Stdio { env, cwd, .. } = &mut spec.launch {
                for pair in &args.env {
                    let (k, v) = parse_key_value(pair)?;
                    env.insert(k, v);
                }
                *cwd = args.cwd;
            }
            spec
        }
        (None, None) => {
            return Err(Usage(
                "give the server's command after `--` (switchboard add NAME -- CMD ARGS...) \
                 or a URL with --url"
                    .into(),
            )
            .into());
        }
    };
    spec.restart = args.restart.unwrap_or_default();
    spec.enabled = !args.disabled;
    let spec_enabled = spec.enabled;
    spec.lazy = args.lazy;
    spec.per_session = args.per_session;
    let described = output::describe_launch(&spec);
    ctx.add_server(name.as_str(), spec).await?;
    println!("added {}: {described}", args.name);
    notify_owner(&ctx.paths).await;
    if spec_enabled {
        say_where_available(ctx, args.name.as_str()).await;
    }
    Ok(())
}

/// "now available in Cursor (refresh …), Claude Code" for the hosts connected to the gateway.
/// Then, for each host it takes over its limits, a warning and the way back.
pub(crate) async fn say_where_available(ctx: &api::Context, server: &str) {
    let Some(hosts) = api::hosts(&ctx.paths, &ctx.env) else { return };
    let now = SystemClock.now_ms();
    let Ok(available) = api::connect::availability_for_window(&ctx.paths, hosts, now).await else {
        return;
    };
    let pairs: Vec<_> =
        available.iter().filter_map(|a| Some((a.host.parse().ok()?, a.pickup))).collect();
    if let Some(text) = api::connect::describe_availability(&pairs) {
        println!("now available in {text}");
    }
    for a in &available {
        if let Some(over) = &a.over_budget {
            eprintln!(
                "warning: {} now sees {over}, over its limits; to hide {server} from it: \
                 switchboard hosts view {} --hide {server}",
                a.name, a.host
            );
        }
    }
}

pub async fn list(paths: &Paths, json: bool) -> anyhow::Result<()> {
    let registry = Registry::new(paths);
    let servers = blocking(move || registry.load()).await?;
    if json {
        let list: Vec<serde_json::Value> = servers
            .iter()
            .map(|(name, spec)| {
                let mut value = serde_json::to_value(spec).unwrap_or_default();
                value["name"] = serde_json::Value::String(name.to_string());
                value
            })
            .collect();
        return output::print_json(&list);
    }
    if servers.is_empty() {
        println!("no servers registered; add one with: switchboard add NAME -- CMD [ARGS...]");
        return Ok(());
    }
    let mut rows =
        vec![["NAME", "TRANSPORT", "ENABLED", "RESTART", "COMMAND / URL"].map(String::from)];
    for (name, spec) in &servers {
        rows.push([
            name.to_string(),
            spec.transport().to_string(),
            if spec.enabled { "yes" } else { "no" }.to_owned(),
            spec.restart.to_string(),
            output::describe_launch(spec),
        ]);
    }
    print!("{}", output::table(&rows));
    Ok(())
}

pub async fn show(paths: &Paths, name: &str, json: bool) -> anyhow::Result<()> {
    let registry = Registry::new(paths);
    let servers = blocking(move || registry.load()).await?;
    let (name, spec) = servers
        .get_key_value(name)
        .ok_or_else(|| switchboard_core::Error::UnknownServer(name.to_owned()))?;
    let status = match ControlClient::connect(paths) {
        Ok(client) => {
            client.status().await.ok().and_then(|all| all.into_iter().find(|s| &s.name == name))
        }
        Err(_) => None,
    };
    if json {
        return output::print_json(
            &serde_json::json!({ "name": name, "spec": spec, "status": status }),
        );
    }
    println!("name:      {name}");
    println!("transport: {}", spec.transport());
    println!("launch:    {}", output::describe_launch(spec));
    match &spec.launch {
        Launch::Stdio { env, cwd, .. } => {
            for key in env.keys() {
                println!("env:       {key}=…");
            }
            if let Some(cwd) = cwd {
                println!("cwd:       {}", cwd.display());
            }
        }
        Launch::Remote { headers, .. } => {
            for key in headers.keys() {
                println!("header:    {key}: …");
            }
        }
    }
    println!("enabled:   {}", if spec.enabled { "yes" } else { "no" });
    println!("restart:   {}", spec.restart);
    match status {
        Some(status) => {
            let now = SystemClock.now_ms();
            println!("state:     {}", output::state_label(&status.state, now));
            if let Some(pid) = status.pid() {
                println!("pid:       {pid}");
            }
            if let Some(binary) = &status.binary {
                let via = match status.found_via {
                    Some(switchboard_core::process::FoundVia::LoginShell) => " (login shell PATH)",
                    _ => "",
                };
                println!("binary:    {binary}{via}");
            }
            if let Some(protocol) = &status.protocol {
                println!("protocol:  {}", protocol.protocol_version);
            }
            if let switchboard_runtime::ServerState::Failed { reason } = &status.state {
                println!("reason:    {reason}");
            }
        }
        None => println!("state:     (no owner running)"),
    }
    Ok(())
}

pub async fn remove(ctx: &api::Context, name: &str) -> anyhow::Result<()> {
    let removed = ctx.remove_server(name).await?;
    // The owner stops a server that left the registry when it reloads.
    notify_owner(&ctx.paths).await;
    match removed {
        api::Removed::Uninstalled(gone) => {
            println!("uninstalled {name}");
            for what in gone {
                println!("  removed {what}");
            }
        }
        api::Removed::Unregistered => println!("removed {name}"),
    }
    Ok(())
}

async fn blocking<T: Send + 'static, E: std::error::Error + Send + Sync + 'static>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> anyhow::Result<T> {
    Ok(tokio::task::spawn_blocking(f).await??)
}
