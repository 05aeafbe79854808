//! `switchboard`: the command line. Registry commands act on the files (under the registry lock)
//! and tell a running owner to reload; runtime commands talk to the owner over its control
//! endpoint; `serve` becomes the owner. Exit codes: 0 success, 1 failure, 2 usage.

mod catalog_cmds;
mod gateway_cmds;
mod host_cmds;
mod install_cmds;
mod output;
mod owner_cmds;
mod registry_cmds;
mod tester_cmds;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use switchboard_core::Paths;

#[derive(Debug, Parser)]
#[command(
    name = "switchboard",
    version,
    about = "Manage your local MCP servers",
    max_term_width = 100
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Register a server: a command (after `--`) or a remote URL.
    Add(registry_cmds::AddArgs),
    /// List registered servers.
    List(JsonFlag),
    /// Show one server's definition (and its live status when an owner runs).
    Show {
        name: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Unregister a server (a running owner stops it first).
    Remove { name: String },
    /// Own the servers headless, in the foreground, until SIGINT, SIGTERM or `shutdown`.
    Serve,
    /// Ask the running owner (the app or `serve`) to stop every server and quit; waits until it
    /// has.
    Shutdown,
    /// Start a server and wait until it answers the MCP handshake.
    Start { name: String },
    /// Stop a server gracefully.
    Stop { name: String },
    /// Stop and start a server.
    Restart { name: String },
    /// Every server's state, pid, restarts, uptime, CPU and memory.
    Status(JsonFlag),
    /// A server's log; with -f, keep printing new lines.
    Logs {
        name: String,
        #[arg(short, long)]
        follow: bool,
    },
    /// Print every event as a JSON line until the owner stops.
    Events,
    /// The built-in knowledge-base server.
    #[command(subcommand)]
    Kb(KbCommand),
    /// Forward MCP on stdin/stdout to a remote server (what hosts that only run commands use).
    Bridge {
        url: String,
        /// A header to send, "Name: value" (repeatable).
        #[arg(long, value_name = "NAME: VALUE")]
        header: Vec<String>,
        /// Use the legacy HTTP+SSE transport instead of Streamable HTTP.
        #[arg(long)]
        sse: bool,
    },
    /// The catalog of installable servers (bundled, and refreshed from an MCP Registry).
    #[command(subcommand)]
    Catalog(catalog_cmds::CatalogCommand),
    /// Install a server from the catalog: shows the plan, fetches the package, verifies the
    /// server answers and lists its tools, then registers it and pins its tools.
    Install(install_cmds::InstallArgs),
    /// Remove an installed server and everything its install created.
    Uninstall { name: String },
    /// Update an installed server to the catalog's latest version (shows the tool diff first).
    Update {
        name: String,
        /// Update without asking after showing the diff.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Tools that changed since you approved them.
    #[command(subcommand)]
    Pins(install_cmds::PinsCommand),
    /// AI hosts' config files: write our servers into them, diff, undo, drift.
    #[command(subcommand)]
    Hosts(host_cmds::HostsCommand),
    /// The gateway hosts reach the servers through: status, host tokens, the audit log.
    #[command(subcommand)]
    Gateway(gateway_cmds::GatewayCommand),
    /// Forward MCP on stdin/stdout to the gateway (what a host's entry runs); starts
    /// Switchboard in the background when it is not running.
    Connect(gateway_cmds::ConnectArgs),
    /// Show what a server offers: its info, tools, resources, templates and prompts.
    Inspect {
        #[arg(value_enum, default_value = "all")]
        what: tester_cmds::Section,
        #[command(flatten)]
        target: tester_cmds::TargetArgs,
    },
    /// Call a tool; KEY=VALUE arguments are typed by the tool's input schema.
    Call {
        tool: String,
        #[arg(value_name = "KEY=VALUE")]
        args: Vec<String>,
        /// Arguments as one JSON object (KEY=VALUE pairs are applied on top).
        #[arg(long, value_name = "JSON")]
        args_json: Option<String>,
        #[command(flatten)]
        target: tester_cmds::TargetArgs,
    },
    /// Read a resource.
    Read {
        uri: String,
        #[command(flatten)]
        target: tester_cmds::TargetArgs,
    },
    /// Get a prompt with its arguments.
    Prompt {
        name: String,
        #[arg(value_name = "KEY=VALUE")]
        args: Vec<String>,
        #[command(flatten)]
        target: tester_cmds::TargetArgs,
    },
    /// Print a server's tools as OpenAI or Anthropic tool definitions (notes go to stderr).
    ExportTools {
        #[arg(long, value_parser = ["openai", "anthropic"])]
        format: String,
        #[command(flatten)]
        target: tester_cmds::TargetArgs,
    },
}

#[derive(Debug, Subcommand)]
enum KbCommand {
    /// Serve folders of documents as an MCP server (stdio, or Streamable HTTP with --http).
    Serve(switchboard_kb::serve::ServeOptions),
    /// Register the built-in knowledge-base server (once), over a default folder.
    Setup,
}

#[derive(Debug, Args)]
struct JsonFlag {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(match cli.command {
        Command::Serve => "info,rmcp=warn",
        Command::Kb(KbCommand::Serve(_)) => "info,rmcp=warn,tantivy=warn",
        _ => "warn",
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("switchboard: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let usage = error
                .downcast_ref::<switchboard_core::Error>()
                .is_some_and(|e| e.is_usage())
                || error.downcast_ref::<switchboard_hosts::Error>().is_some_and(|e| e.is_usage())
                || error.downcast_ref::<switchboard_catalog::Error>().is_some_and(|e| e.is_usage())
                || error.downcast_ref::<switchboard_runtime::Error>().is_some_and(|e| e.is_usage())
                || error.downcast_ref::<switchboard_install::Error>().is_some_and(|e| e.is_usage())
                || error.downcast_ref::<switchboard_api::Error>().is_some_and(|e| e.is_usage())
                || error.downcast_ref::<switchboard_gateway::Error>().is_some_and(|e| e.is_usage())
                || error.downcast_ref::<output::Usage>().is_some();
            eprintln!("switchboard: {}", describe(&error));
            ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}

/// The error and its causes, each once: the crates' errors already say their cause in their own
/// sentence (`writing PATH: No space left on device`), which `{:#}` would repeat.
fn describe(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let paths = Paths::from_env()?;
    // The environment, read once here and passed down (PATH, SWITCHBOARD_HOME, the registry).
    let env = switchboard_core::Env::from_process();
    let ctx = switchboard_api::Context::new(
        paths.clone(),
        env.clone(),
        std::sync::Arc::new(switchboard_core::clock::SystemClock),
    );
    match cli.command {
        Command::Add(args) => registry_cmds::add(&ctx, args).await,
        Command::List(flag) => registry_cmds::list(&paths, flag.json).await,
        Command::Show { name, json } => registry_cmds::show(&paths, &name, json.json).await,
        Command::Remove { name } => registry_cmds::remove(&ctx, &name).await,
        Command::Serve => owner_cmds::serve(paths, env).await,
        Command::Shutdown => owner_cmds::shutdown(&paths).await,
        Command::Start { name } => owner_cmds::action(&paths, &name, "start").await,
        Command::Stop { name } => owner_cmds::action(&paths, &name, "stop").await,
        Command::Restart { name } => owner_cmds::action(&paths, &name, "restart").await,
        Command::Status(flag) => owner_cmds::status(&paths, flag.json).await,
        Command::Logs { name, follow } => owner_cmds::logs(&paths, &name, follow).await,
        Command::Events => owner_cmds::events(&paths).await,
        Command::Kb(KbCommand::Serve(options)) => {
            Ok(switchboard_kb::serve::serve(options, Some(paths.data_dir.clone())).await?)
        }
        Command::Kb(KbCommand::Setup) => kb_setup(&paths, &env),
        Command::Hosts(command) => host_cmds::run(&paths, &env, command).await,
        Command::Gateway(command) => gateway_cmds::run(&paths, command).await,
        Command::Connect(args) => gateway_cmds::connect(&paths, args).await,
        Command::Catalog(command) => catalog_cmds::run(&ctx, command).await,
        Command::Install(args) => install_cmds::install(&ctx, args).await,
        Command::Uninstall { name } => install_cmds::uninstall(&ctx, &name).await,
        Command::Update { name, yes } => install_cmds::update(&ctx, &name, yes).await,
        Command::Pins(command) => install_cmds::pins(&ctx, command).await,
        Command::Bridge { url, header, sse } => {
            let mut argv = vec![url];
            for h in header {
                argv.extend(["--header".to_string(), h]);
            }
            if sse {
                argv.push("--sse".into());
            }
            let args =
                switchboard_core::mcp::bridge::BridgeArgs::parse(argv).map_err(output::Usage)?;
            Ok(args.run().await?)
        }
        Command::Inspect { what, target } => tester_cmds::inspect(&paths, &env, what, target).await,
        Command::Call { tool, args, args_json, target } => {
            tester_cmds::call(&paths, &env, tool, args, args_json, target).await
        }
        Command::Read { uri, target } => tester_cmds::read(&paths, &env, uri, target).await,
        Command::Prompt { name, args, target } => {
            tester_cmds::prompt(&paths, &env, name, args, target).await
        }
        Command::ExportTools { format, target } => {
            tester_cmds::export_tools(&paths, &env, format, target).await
        }
    }
}

fn kb_setup(paths: &Paths, env: &switchboard_core::Env) -> anyhow::Result<()> {
    use switchboard_api::knowledge_base::{self, Ensured};
    let me = knowledge_base::SelfCommand::current()?;
    let folder = knowledge_base::default_folder(paths, env.home_override);
    match knowledge_base::ensure(paths, &me, &folder)? {
        Ensured::Registered(folder) => {
            println!("registered {} over {}", knowledge_base::NAME, folder.display());
        }
        Ensured::Refreshed => println!("{} is registered", knowledge_base::NAME),
        Ensured::Declined => println!(
            "{} was removed earlier; add it back with `switchboard add {} -- switchboard kb serve --root DIR`",
            knowledge_base::NAME,
            knowledge_base::NAME
        ),
    }
    Ok(())
}

/// Our own diagnostics go to stderr (stdout is for results), filtered by `SWITCHBOARD_LOG`.
fn init_tracing(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWITCHBOARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
