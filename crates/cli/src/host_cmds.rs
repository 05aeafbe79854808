//! `switchboard hosts …`: write Switchboard's servers into AI hosts' config files, show the change
//! first, undo it, and report drift.

use std::{path::PathBuf, sync::Arc};

use anyhow::Context;
use clap::{Args, Subcommand};
use switchboard_api as api;
use switchboard_core::{Env, Paths};
use switchboard_hosts::{ChangeKind, EntryState, HostEnv, HostId, Hosts, Plan};

use crate::output::{Usage, print_json};

#[derive(Debug, Subcommand)]
pub enum HostsCommand {
    /// Every host: detected or not, its config files, our entries and others', drift.
    List(ListArgs),
    /// Our entries in each host's files, and which drifted (changed or removed by someone else).
    Status(ListArgs),
    /// Direct mode: write the servers' own commands (and secrets) into a host's file, so the
    /// host runs its own copy of each (default: every enabled server). `connect` is the usual
    /// way.
    Apply(WriteArgs),
    /// Show exactly what `apply` (or with --remove, `remove`) would change. Writes nothing.
    Diff {
        #[command(flatten)]
        args: WriteArgs,
        /// The diff of a removal instead.
        #[arg(long)]
        remove: bool,
    },
    /// Remove our entries (default: all of ours in the file).
    Remove(WriteArgs),
    /// Point a host at Switchboard's gateway instead of at each server's own command: one
    /// `switchboard` entry (aggregate) or one per server. Entries an earlier version wrote are
    /// replaced in place; your own entries are left alone. Prints the change, then writes it
    /// (backup, journal, undo).
    Connect(ConnectArgs),
    /// Remove what `connect` wrote to a host's file, and revoke its gateway token.
    Disconnect {
        host: HostId,
        /// Print the diff; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// What a host sees through the gateway: hide or show servers, deny or allow tools, set a
    /// server's default for the tools not named. With no change, prints the view.
    View(ViewArgs),
    /// How many tools a host sees through the gateway and what their definitions cost, against
    /// its limits; when over, what to turn off first.
    Budget {
        host: HostId,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Take a server you wrote into a connected host's file yourself into Switchboard: it is
    /// registered (values that look secret go to the secret store), and its entry is replaced
    /// by the gateway's. Prints the change first.
    Import {
        host: HostId,
        /// The entry's name in the host's file.
        name: String,
        /// Print the diff; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Undo the last write Switchboard made to this host's files.
    Undo {
        host: HostId,
        /// Undo even though the file changed since.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    host: HostId,
    /// `aggregate` (one entry; servers appear and disappear live) or `per-server` (one entry
    /// each). Default: what suits the host (see docs/hosts.md).
    #[arg(long)]
    mode: Option<switchboard_hosts::Mode>,
    /// Print the diff; write nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ViewArgs {
    host: HostId,
    /// Hide a server from this host.
    #[arg(long, value_name = "SERVER")]
    hide: Vec<String>,
    /// Show a hidden server again.
    #[arg(long, value_name = "SERVER")]
    show: Vec<String>,
    /// Hide one tool of a server from this host.
    #[arg(long, value_name = "SERVER:TOOL")]
    deny: Vec<String>,
    /// Show one tool of a server (also over a server default of deny).
    #[arg(long, value_name = "SERVER:TOOL")]
    allow: Vec<String>,
    /// What the tools of a server named in neither list get: `allow` (the default) or `deny`.
    #[arg(long = "default", value_name = "SERVER:allow|deny")]
    defaults: Vec<String>,
    /// Forget the host's view: it sees everything.
    #[arg(long)]
    reset: bool,
    /// Make the change even though it takes the host over its tool limit.
    #[arg(long)]
    over: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Also look at this project folder's files.
    #[arg(long, value_name = "DIR")]
    project: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct WriteArgs {
    host: HostId,
    /// Servers by name, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    servers: Option<Vec<String>>,
    /// Write the project folder's file instead of the user's.
    #[arg(long, value_name = "DIR")]
    project: Option<PathBuf>,
    /// A VS Code profile's file instead of the default profile's (its folder id under
    /// `User/profiles/`).
    #[arg(long, value_name = "ID", conflicts_with = "project")]
    profile: Option<String>,
    /// Print the diff; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Also replace or remove entries Switchboard did not write.
    #[arg(long)]
    force: bool,
}

fn hosts(paths: &Paths, env: &Env) -> anyhow::Result<Arc<Hosts>> {
    let env = HostEnv::from_core(env).context("no home folder: set HOME")?;
    let bridge = switchboard_hosts::Bridge::current();
    Ok(Arc::new(Hosts::new(paths, env, bridge)))
}

fn absolute(project: Option<PathBuf>) -> anyhow::Result<Option<PathBuf>> {
    project
        .map(|p| std::path::absolute(&p).with_context(|| format!("resolving {}", p.display())))
        .transpose()
}

pub async fn run(paths: &Paths, env: &Env, command: HostsCommand) -> anyhow::Result<()> {
    let hosts = hosts(paths, env)?;
    match command {
        HostsCommand::List(args) => list(paths, hosts, args, false).await,
        HostsCommand::Status(args) => list(paths, hosts, args, true).await,
        HostsCommand::Apply(args) => write(paths, hosts, args, false).await,
        HostsCommand::Remove(args) => write(paths, hosts, args, true).await,
        HostsCommand::Diff { mut args, remove } => {
            args.dry_run = true;
            write(paths, hosts, args, remove).await
        }
        HostsCommand::Connect(args) => connect(paths, hosts, args).await,
        HostsCommand::View(args) => {
            let host = args.host;
            let json = args.json;
            if view(paths, hosts.clone(), args).await? && !json {
                print_budget(
                    &api::budget::budget(paths, Some(hosts), host, now_ms()).await?,
                    false,
                );
            }
            Ok(())
        }
        HostsCommand::Import { host, name, dry_run } => {
            let clock = Arc::new(switchboard_core::clock::SystemClock);
            let done = api::connect::import(hosts, paths, clock, host, &name, dry_run).await?;
            report(&done.change.plan);
            print!("{}", done.change.diff());
            if !done.secrets.is_empty() {
                println!("secrets to the secret store: {}", done.secrets.join(", "));
            }
            if !dry_run {
                println!(
                    "imported {name}: registered, and {host}'s entry now goes through Switchboard"
                );
                crate::owner_cmds::notify_owner(paths).await;
            }
            Ok(())
        }
        HostsCommand::Budget { host, json } => {
            let budget = api::budget::budget(paths, Some(hosts), host, now_ms()).await?;
            if json {
                return print_json(&budget);
            }
            print_budget(&budget, true);
            Ok(())
        }
        HostsCommand::Disconnect { host, dry_run } => {
            let done = api::connect::disconnect(hosts, paths, host, dry_run).await?;
            report(&done.plan);
            print!("{}", done.diff());
            match done.written {
                Some(w) => println!(
                    "disconnected {host}: wrote {} and revoked its gateway token",
                    w.path.display()
                ),
                None if dry_run => {}
                None => println!("disconnected {host}; its file had nothing of ours left"),
            }
            Ok(())
        }
        HostsCommand::Undo { host, force } => {
            let record = api::host_undo(hosts, host, force).await?;
            println!(
                "undid Switchboard's {:?} of {} in {} (backup of the undone content: {})",
                record.entries.join(", "),
                host,
                record.path.display(),
                record.backup.as_ref().map_or("none".into(), |b| b.display().to_string())
            );
            Ok(())
        }
    }
}

async fn list(
    paths: &Paths,
    hosts: Arc<Hosts>,
    args: ListArgs,
    only_ours: bool,
) -> anyhow::Result<()> {
    let project = absolute(args.project)?;
    let connections = hosts.connections().unwrap_or_default();
    let mut all = api::host_status(hosts, paths, project).await?;
    if only_ours {
        for host in &mut all {
            for file in &mut host.files {
                file.entries.retain(|e| e.state != EntryState::Theirs);
            }
        }
    }
    if args.json {
        return print_json(&all);
    }
    for host in &all {
        let shown: Vec<_> = host
            .files
            .iter()
            .filter(|f| !only_ours || !f.entries.is_empty() || f.error.is_some())
            .collect();
        if only_ours && shown.is_empty() {
            continue;
        }
        let found = match &host.detected_by {
            Some(why) => format!("detected: {why}"),
            None => "not detected".into(),
        };
        let drift = match host.drifted() {
            0 => String::new(),
            n => format!(", {n} drifted"),
        };
        println!("{:<15} {:<15} {found}{drift}", host.id, host.name);
        for file in shown {
            let exists = if file.exists { "" } else { " (no file)" };
            println!("  {:<8} {} [{}]{exists}", file.scope, file.path.display(), file.format);
            if let Some(error) = &file.error {
                println!("    cannot read it: {error}");
            }
            for entry in &file.entries {
                let state = match entry.state {
                    EntryState::InSync => "ours, in sync",
                    EntryState::Outdated => "ours, outdated: the server changed; apply updates it",
                    EntryState::Changed => {
                        "ours, DRIFTED: changed by someone else; apply restores it"
                    }
                    EntryState::Missing => {
                        "ours, DRIFTED: removed by someone else; apply restores it"
                    }
                    EntryState::Theirs => "not ours",
                };
                println!("    {:<24} {state}", entry.name);
            }
        }
        // The one-step move: our direct entries run each server's own copy, with its secrets in
        // the file; connecting replaces them in place with the gateway's.
        let connected = connections.contains_key(host.id.as_str());
        let direct = host
            .files
            .iter()
            .filter(|f| f.scope == "user")
            .flat_map(|f| &f.entries)
            .filter(|e| e.state != EntryState::Theirs)
            .count();
        if !connected && direct > 0 {
            println!(
                "  {direct} of our entries make {} run its own copy of each server, with its \
                 secrets in its file: `switchboard hosts connect {}` moves them to the gateway",
                host.name, host.id
            );
        }
        let theirs =
            host.files.iter().flat_map(|f| &f.entries).any(|e| e.state == EntryState::Theirs);
        if connected && theirs {
            println!(
                "  entries not ours are not managed: `switchboard hosts import {} NAME` takes one in",
                host.id
            );
        }
    }
    Ok(())
}

async fn write(
    paths: &Paths,
    hosts: Arc<Hosts>,
    args: WriteArgs,
    remove: bool,
) -> anyhow::Result<()> {
    let write = api::HostWrite {
        host: args.host,
        project: absolute(args.project)?,
        profile: args.profile,
        entries: if remove {
            api::Entries::Remove(args.servers)
        } else {
            api::Entries::Apply(args.servers)
        },
        force: args.force,
        dry_run: args.dry_run,
    };
    let (plan, written) = api::host_write(hosts, paths, write).await?;
    if !remove && plan.changes.iter().any(|c| c.kind != ChangeKind::Unchanged) {
        eprintln!(
            "warning: direct entries: {} runs its own copy of each server (not the one Switchboard \
             supervises), and their secrets are in its file; `switchboard hosts connect {}` \
             reaches them through Switchboard instead",
            args.host.display_name(),
            args.host
        );
    }
    if args.dry_run {
        report(&plan);
        if plan.changes_anything() {
            print!("{}", plan.diff());
        } else {
            println!("{}: nothing to change", plan.file.path.display());
        }
        return Ok(());
    }
    report(&plan);
    match written {
        Some(w) => {
            let backup =
                w.backup.as_ref().map_or(String::new(), |b| format!("; backup {}", b.display()));
            println!(
                "wrote {}{backup} (undo: switchboard hosts undo {})",
                w.path.display(),
                args.host
            );
        }
        None => println!("{}: nothing to change", plan.file.path.display()),
    }
    if !plan.skipped.is_empty() && plan.changes.iter().all(|c| c.kind == ChangeKind::Unchanged) {
        return Err(Usage("nothing was written: every entry was skipped".into()).into());
    }
    Ok(())
}

async fn connect(paths: &Paths, hosts: Arc<Hosts>, args: ConnectArgs) -> anyhow::Result<()> {
    let clock = Arc::new(switchboard_core::clock::SystemClock);
    let done =
        api::connect::connect(hosts, paths, clock, args.host, args.mode, args.dry_run).await?;
    report(&done.change.plan);
    print!("{}", done.change.diff());
    if args.dry_run {
        return Ok(());
    }
    let how = match done.reach {
        switchboard_hosts::Reach::Url => "by URL, with its own token",
        switchboard_hosts::Reach::Command => "through `switchboard connect`, no secret in its file",
    };
    let path = done.change.plan.file.path.display();
    match &done.change.written {
        Some(w) => println!(
            "connected {} ({} mode, {how}): wrote {path}{} (undo: switchboard hosts undo {})",
            args.host,
            done.mode,
            w.backup.as_ref().map_or(String::new(), |b| format!("; backup {}", b.display())),
            args.host
        ),
        None => {
            println!("connected {} ({} mode, {how}): {path} already says so", args.host, done.mode)
        }
    }
    let name = args.host.display_name();
    match done.pickup {
        switchboard_hosts::Pickup::Live => {}
        switchboard_hosts::Pickup::Refresh => println!("{name}: refresh its MCP servers to see it"),
        switchboard_hosts::Pickup::Restart => println!("{name}: restart it to see it"),
    }
    if !done.change.plan.skipped.is_empty() {
        return Err(Usage("some entries were skipped (see above)".into()).into());
    }
    Ok(())
}

/// `SERVER:TOOL` (or `SERVER:allow`), split at the first colon.
fn split_pair(text: &str) -> anyhow::Result<(String, String)> {
    match text.split_once(':') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() => Ok((a.to_owned(), b.to_owned())),
        _ => Err(Usage(format!("{text:?}: expected SERVER:NAME")).into()),
    }
}

fn now_ms() -> u64 {
    switchboard_core::clock::Clock::now_ms(&switchboard_core::clock::SystemClock)
}

/// The budget as text; `full` lists every tool, else only the summary and warnings.
fn print_budget(budget: &api::budget::Budget, full: bool) {
    let name =
        budget.host.parse::<HostId>().map_or(budget.host.clone(), |h| h.display_name().into());
    let live = budget.sessions.map_or(String::new(), |n| format!("; {n} live session(s)"));
    println!("{name}: {}; {} call(s) today{live}", budget.summary(), budget.calls_today);
    if let Some(max) = budget.limits.tools
        && budget.tools > max
    {
        println!(
            "warning: over {name}'s limit of {max} tools (docs/hosts.md [{}])",
            budget.limits.source
        );
    }
    if budget.tokens > budget.token_warning {
        println!(
            "warning: over {} tokens of tool definitions: hosts start hiding tools behind search, \
             and models choose worse",
            budget.token_warning
        );
    }
    for long in &budget.long_names {
        println!(
            "warning: {} is longer than {} characters: {name} or its model refuses it",
            long.name, long.limit
        );
    }
    if !budget.unknown.is_empty() {
        println!("not counted (not running, never pinned): {}", budget.unknown.join(", "));
    }
    if !budget.suggestions.is_empty() {
        println!("to get under, turn off (least used first, then largest):");
        for s in &budget.suggestions {
            println!(
                "  switchboard hosts view {} --deny {}:{}   # ~{} tokens, {} call(s)",
                budget.host, s.server, s.tool, s.tokens, s.calls
            );
        }
    }
    if full {
        for cost in &budget.costs {
            println!(
                "  {:>6} tokens  {:>5} calls  {}:{}",
                cost.tokens, cost.calls, cost.server, cost.tool
            );
        }
    }
}

/// Edits and prints a host's view; `true` when it changed.
async fn view(paths: &Paths, hosts: Arc<Hosts>, args: ViewArgs) -> anyhow::Result<bool> {
    use switchboard_core::settings;
    let mut saved = settings::load(paths)?;
    let key = args.host.id().to_owned();
    let mut view = saved.host_views.get(&key).cloned().unwrap_or_default();
    let changing = args.reset
        || !(args.hide.is_empty()
            && args.show.is_empty()
            && args.deny.is_empty()
            && args.allow.is_empty()
            && args.defaults.is_empty());
    if args.reset {
        view = Default::default();
    }
    for server in args.hide {
        view.hidden_servers.insert(server);
    }
    for server in &args.show {
        view.hidden_servers.remove(server);
    }
    for pair in &args.deny {
        let (server, tool) = split_pair(pair)?;
        let filter = view.tools.entry(server).or_default();
        filter.allow.remove(&tool);
        filter.deny.insert(tool);
    }
    for pair in &args.allow {
        let (server, tool) = split_pair(pair)?;
        let filter = view.tools.entry(server).or_default();
        filter.deny.remove(&tool);
        filter.allow.insert(tool);
    }
    for pair in &args.defaults {
        let (server, default) = split_pair(pair)?;
        view.tools.entry(server).or_default().default_allow = match default.as_str() {
            "allow" => true,
            "deny" => false,
            other => return Err(Usage(format!("{other:?}: expected allow or deny")).into()),
        };
    }
    view.tools.retain(|_, f| !f.default_allow || !f.allow.is_empty() || !f.deny.is_empty());
    // Warned before, not after: a change that shows more and takes the host over its tool
    // limit is made only with --over.
    let shows_more = args.reset
        || !args.show.is_empty()
        || !args.allow.is_empty()
        || args.defaults.iter().any(|d| d.ends_with(":allow"));
    if changing && shows_more && !args.over {
        let now = now_ms();
        let before = api::budget::budget(paths, Some(hosts.clone()), args.host, now).await?;
        let after =
            api::budget::budget_with(paths, Some(hosts), args.host, Some(view.clone()), now)
                .await?;
        if let Some(max) = after.limits.tools
            && after.tools > max
            && after.tools > before.tools
        {
            return Err(Usage(format!(
                "this gives {} {} tools, over the {max} it takes (now {}); nothing was changed. \
                 Pass --over to do it anyway, or hide others first (`hosts budget {}`)",
                args.host.display_name(),
                after.tools,
                before.tools,
                args.host
            ))
            .into());
        }
    }
    if changing {
        if view == Default::default() {
            saved.host_views.remove(&key);
        } else {
            saved.host_views.insert(key, view.clone());
        }
        settings::save(paths, &saved)?;
    }
    if args.json {
        print_json(&view)?;
        return Ok(changing);
    }
    let name = args.host.display_name();
    if view == Default::default() {
        println!("{name} sees every server and every tool");
    }
    for server in &view.hidden_servers {
        println!("hidden    {server}");
    }
    for (server, filter) in &view.tools {
        let default = if filter.default_allow { "allow" } else { "deny" };
        println!("{server}: other tools {default}");
        for tool in &filter.allow {
            println!("  allow   {tool}");
        }
        for tool in &filter.deny {
            println!("  deny    {tool}");
        }
    }
    if changing {
        println!(
            "saved; a running Switchboard applies it within 2 s and tells {name} its lists changed"
        );
    }
    Ok(changing)
}

fn report(plan: &Plan) {
    for change in &plan.changes {
        let what = match change.kind {
            ChangeKind::Add => "add",
            ChangeKind::Update => "update",
            ChangeKind::Remove => "remove",
            ChangeKind::Unchanged => "unchanged",
        };
        println!("{what:<9} {}", change.name);
    }
    for skip in &plan.skipped {
        eprintln!("skipped   {}: {}", skip.name, skip.reason);
    }
    for note in &plan.notes {
        eprintln!("note: {note}");
    }
}
