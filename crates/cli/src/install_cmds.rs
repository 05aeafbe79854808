//! `switchboard install | uninstall | update | pins …`: one-click install from the catalog with
//! the plan shown first, a progress line per step and verification before registering; removal
//! of everything an install made; updates that show the new version's tool diff before
//! anything changes; and review and approval of tools that changed since they were approved.

use std::io::{IsTerminal, Write};

use anyhow::Context;
use clap::{Args, Subcommand};
use switchboard_api::{self as api, Approval};
use switchboard_core::{ServerName, spec::parse_key_value};
use switchboard_install::{Installed, Plan, Progress, Request, Start};
use switchboard_runtime::pins::ToolDiff;

use crate::{
    output::{Usage, print_json},
    owner_cmds::notify_owner,
};

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The catalog entry: full name (io.github.user/weather), short name or title.
    name: String,
    /// Install this exact version (asked of the registry when the catalog has another).
    #[arg(long)]
    version: Option<String>,
    /// An answer to one of the entry's inputs (repeatable); see `switchboard catalog show`.
    #[arg(long = "input", value_name = "KEY=VALUE")]
    inputs: Vec<String>,
    /// The local server name (default: the part of the entry's name after the slash).
    #[arg(long = "as", value_name = "NAME")]
    local_name: Option<String>,
    /// Install without asking for confirmation after showing the plan.
    #[arg(long, short = 'y')]
    yes: bool,
    /// How long the server may take to start, answer the handshake and list its tools.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    verify_timeout: u64,
    /// Print the result as JSON (progress still goes to stderr).
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
pub enum PinsCommand {
    /// How a server's tools differ from the ones you approved.
    Diff {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Approve a server's changed tools, so it may start again (a server added by hand, with
    /// nothing pinned yet, gets its current tools pinned).
    Approve { name: String },
}

/// The progress line: `[2/4] npm install @x/y@1.0.0` on stderr, with the step's latest output
/// on a terminal.
fn progress_printer() -> impl Fn(Progress) + Send + Sync {
    let tty = std::io::stderr().is_terminal();
    move |p: Progress| match (&p.detail, tty) {
        (None, _) => eprintln!("[{}/{}] {}", p.step, p.total, p.label),
        (Some(line), true) => {
            let short: String = line.chars().take(100).collect();
            eprint!("\r\x1b[2K      {short}\r");
            let _ = std::io::stderr().flush();
        }
        (Some(_), false) => {}
    }
}

pub async fn install(ctx: &api::Context, args: InstallArgs) -> anyhow::Result<()> {
    let server = ctx.lookup(&args.name, args.version.as_deref()).await?;
    let answers = args
        .inputs
        .iter()
        .map(|i| parse_key_value(i))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Usage(e.to_string()))?;
    let request = Request { server, name: args.local_name.clone(), way: None, answers };
    let (name, plan) = ctx.install_plan(&request)?;
    eprint!("{}", describe_plan(&name, &plan));
    confirm(args.yes, "Install")?;
    let printer = progress_printer();
    let timeout = std::time::Duration::from_secs(args.verify_timeout);
    let installed = ctx.install(request, Some(timeout), &printer).await?;
    notify_owner(&ctx.paths).await;
    if args.json {
        return print_json(&installed);
    }
    print!("{}", describe_installed(&installed));
    crate::registry_cmds::say_where_available(ctx, &installed.name).await;
    Ok(())
}

/// What will run, exactly, before it runs.
fn describe_plan(name: &ServerName, plan: &Plan) -> String {
    let mut out = format!("Installing {} {} as {name}\n", plan.entry, plan.version);
    for step in &plan.steps {
        if step.argv.is_empty() {
            out.push_str(&format!("  will {}\n", step.label));
        } else {
            let env: String = step.env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
            out.push_str(&format!("  will run: {env}{}\n", shell_words(&step.argv)));
        }
    }
    let start = match &plan.start {
        Start::NodePackage { node, prefix, package } => format!(
            "{} {}/node_modules/{package}/<its bin script>",
            node.display(),
            prefix.display()
        ),
        Start::UvTool { bin_dir, package, .. } => {
            format!("{}/<{package}'s executable>", bin_dir.display())
        }
        Start::Command { command, args } => shell_words(
            &std::iter::once(command.clone()).chain(args.iter().cloned()).collect::<Vec<_>>(),
        ),
        Start::Remote { url, transport, .. } => format!("connect to {url} ({transport:?})"),
        Start::Bundle { dir, .. } => format!("the command in {}/manifest.json", dir.display()),
    };
    let args =
        if plan.args.is_empty() { String::new() } else { format!(" {}", shell_words(&plan.args)) };
    out.push_str(&format!("  then start: {start}{args}\n"));
    let env: Vec<String> = plan
        .env
        .keys()
        .map(|k| {
            if plan.secret_env.contains(k) {
                format!("{k}=<secret>")
            } else {
                format!("{k}={}", plan.env[k])
            }
        })
        .collect();
    if !env.is_empty() {
        out.push_str(&format!("  with env: {}\n", env.join(" ")));
    }
    for note in &plan.notes {
        out.push_str(&format!("  note: {note}\n"));
    }
    out
}

/// argv as one line, quoting words that need it (for reading, never for running).
fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:@+,".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn describe_installed(i: &Installed) -> String {
    let mut out = format!(
        "installed {} ({} {}), verified: MCP {}, {} tools\n",
        i.name,
        i.entry,
        i.version,
        i.protocol,
        i.tools.len()
    );
    out.push_str(&format!("  command: {}\n", shell_words(&i.command)));
    for t in &i.tools {
        let first = t.description.lines().next().unwrap_or_default();
        let short: String = first.chars().take(80).collect();
        out.push_str(&format!("  tool {:28} {short}\n", t.name));
    }
    for f in &i.flags {
        out.push_str(&format!(
            "  WARNING: tool {} looks suspicious ({}): {}\n",
            f.tool, f.kind, f.detail
        ));
    }
    if let Some(store) = &i.secret_store {
        out.push_str(&format!("  {store}\n"));
    }
    for note in &i.notes {
        out.push_str(&format!("  note: {note}\n"));
    }
    out
}

/// Asks on a terminal; without one, `--yes` is required.
fn confirm(yes: bool, what: &str) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Usage(format!(
            "{what}? Nothing was done: add --yes to go ahead without a terminal to ask on"
        ))
        .into());
    }
    eprint!("{what}? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).context("reading the answer")?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(Usage("cancelled; nothing was done".into()).into())
    }
}

pub async fn uninstall(ctx: &api::Context, name: &str) -> anyhow::Result<()> {
    let removed = ctx.uninstall(name).await?;
    // The owner stops a server that left the registry when it reloads.
    notify_owner(&ctx.paths).await;
    println!("uninstalled {name}");
    for what in removed {
        println!("  removed {what}");
    }
    Ok(())
}

pub async fn update(ctx: &api::Context, name: &str, yes: bool) -> anyhow::Result<()> {
    let check = ctx.update_check(name).await?;
    let (record, latest) = (&check.record, check.latest.clone());
    if check.is_current() {
        println!("{name} is at {}, the catalog's latest version", record.version);
        return Ok(());
    }
    eprintln!("Updating {name}: {} {} -> {}", record.entry, record.version, latest.version);
    let printer = progress_printer();
    let prepared = ctx.prepare_update(name, latest, &printer).await?;
    print!("{}", describe_diff(&prepared.diff, "the new version's tools"));
    if let Err(e) =
        confirm(yes, &format!("Update {name} from {} to {}", prepared.from, prepared.to))
    {
        ctx.discard_update(prepared);
        return Err(e);
    }
    let (from, to) = (prepared.from.clone(), prepared.to.clone());
    ctx.finish_update(prepared).await?;
    notify_owner(&ctx.paths).await;
    println!("updated {name} from {from} to {to}");
    Ok(())
}

pub async fn pins(ctx: &api::Context, command: PinsCommand) -> anyhow::Result<()> {
    match command {
        PinsCommand::Diff { name, json } => {
            let diff = ctx.pins_diff(&name).await?;
            if json {
                return print_json(&diff.unwrap_or_default());
            }
            match diff {
                None => println!("{name}'s tools are as you approved them"),
                Some(diff) => print!("{}", describe_diff(&diff, &format!("{name}'s tools"))),
            }
            Ok(())
        }
        PinsCommand::Approve { name } => {
            match ctx.approve_tools(&name).await? {
                Approval::Pinned { tools } => println!(
                    "pinned {name}'s {tools} tools; a change will hold it until you approve"
                ),
                Approval::Approved { diff } => println!(
                    "approved {name}'s tools ({}); start it again to use them",
                    diff.summary()
                ),
            }
            Ok(())
        }
    }
}

fn describe_diff(diff: &ToolDiff, what: &str) -> String {
    if diff.is_empty() {
        return format!("{what}: no changes\n");
    }
    let mut out = format!("{what}: {}\n", diff.summary());
    for name in &diff.added {
        out.push_str(&format!("+ tool {name}\n"));
    }
    for name in &diff.removed {
        out.push_str(&format!("- tool {name}\n"));
    }
    for changed in &diff.changed {
        out.push_str(&changed.diff);
    }
    for f in &diff.flags {
        out.push_str(&format!(
            "WARNING: tool {} looks suspicious ({}): {}\n",
            f.tool, f.kind, f.detail
        ));
    }
    out
}
