//! `switchboard gateway …` and `switchboard connect`: where hosts reach the servers, their
//! tokens, the audit log, and the stdio bridge a host runs when it only runs commands (it starts
//! a headless owner when none runs, and reads its token itself).

use std::{io::Write, time::Duration};

use anyhow::Context;
use clap::{Args, Subcommand};
use switchboard_api::headless;
use switchboard_core::{
    Paths,
    clock::{Clock, SystemClock},
    logs::format_ms,
};
use switchboard_gateway::{TokenInfo, Tokens, audit};

use crate::output::print_json;

#[derive(Debug, Subcommand)]
pub enum GatewayCommand {
    /// Where hosts reach the servers, the sessions they hold and each server's traffic.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Print a host's token (made the first time it is asked for), or revoke it.
    Token {
        /// The host: a name of your choosing (claude-desktop, cursor, ci…).
        #[arg(long)]
        host: String,
        /// Revoke the token: the host is refused from its next request.
        #[arg(long)]
        revoke: bool,
    },
    /// The hosts that have a token (never the tokens).
    Tokens {
        #[arg(long)]
        json: bool,
    },
    /// The audit log: one line per request (time, host, server, method, name, duration, outcome).
    Log {
        /// Keep printing new requests as they arrive.
        #[arg(short, long)]
        follow: bool,
        #[arg(long)]
        json: bool,
    },
}

/// `switchboard connect`: what a host's entry runs.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// One server under its own names (default: every server, under unique names).
    #[arg(long, value_name = "NAME")]
    server: Option<String>,
    /// The host this bridge speaks for; its token is used (and made if needed).
    #[arg(long, value_name = "HOST", default_value = "default")]
    host: String,
}

pub async fn run(paths: &Paths, command: GatewayCommand) -> anyhow::Result<()> {
    match command {
        GatewayCommand::Status { json } => status(paths, json).await,
        GatewayCommand::Token { host, revoke } => {
            let tokens = Tokens::new(paths);
            if revoke {
                if tokens.revoke(&host)? {
                    println!("revoked {host}'s token; its next request is refused");
                } else {
                    println!("{host} had no token");
                }
            } else {
                println!("{}", tokens.token_for(&host, SystemClock.now_ms())?);
            }
            Ok(())
        }
        GatewayCommand::Tokens { json } => {
            let listed: Vec<TokenInfo> = Tokens::new(paths).list()?;
            if json {
                return print_json(&listed);
            }
            if listed.is_empty() {
                println!("no host has a token yet (switchboard gateway token --host NAME)");
            }
            for t in listed {
                println!("{:<24} since {}", t.host, format_ms(t.created_ms));
            }
            Ok(())
        }
        GatewayCommand::Log { follow, json } => log(paths, follow, json).await,
    }
}

async fn status(paths: &Paths, json: bool) -> anyhow::Result<()> {
    let status = switchboard_api::gateway_status(paths).await?;
    if json {
        return print_json(&status);
    }
    println!("gateway: {}", status.url);
    println!("sessions: {}", status.sessions.len());
    for s in &status.sessions {
        let endpoint = s.server.as_deref().map_or("/mcp".to_owned(), |s| format!("/mcp/{s}"));
        println!("  {:<20} {endpoint:<28} {} calls, {} errors", s.host, s.calls, s.errors);
    }
    println!("servers:");
    for s in &status.servers {
        let hosts = if s.hosts.is_empty() { "-".to_owned() } else { s.hosts.join(", ") };
        println!("  {:<24} {:>6} calls {:>4} errors  hosts: {hosts}", s.name, s.calls, s.errors);
    }
    Ok(())
}

async fn log(paths: &Paths, follow: bool, json: bool) -> anyhow::Result<()> {
    let path = audit::path(paths);
    let print = |r: &audit::Record| {
        let mut out = std::io::stdout().lock();
        let line = if json {
            serde_json::to_string(r).unwrap_or_default()
        } else {
            format!(
                "{} {:<16} {:<20} {:<24} {:<28} {:>8.1} ms {}{}",
                format_ms(r.at_ms),
                r.host,
                r.server.as_deref().unwrap_or("-"),
                r.method,
                r.name.as_deref().unwrap_or("-"),
                r.duration_ms,
                r.outcome,
                r.error.as_deref().map(|e| format!(": {e}")).unwrap_or_default()
            )
        };
        // A closed pipe (`| head`) is not an error worth reporting.
        writeln!(out, "{line}").and_then(|()| out.flush()).is_ok()
    };
    let mut shown = 0;
    loop {
        let records = audit::read(&path);
        // After a rotation the file holds fewer records than were shown: start over from it.
        let from = if records.len() < shown { 0 } else { shown };
        for r in &records[from..] {
            if !print(r) {
                return Ok(());
            }
        }
        shown = records.len();
        if !follow {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The stdio bridge: starts a headless owner if none runs, then forwards stdin/stdout to the
/// gateway with the host's token.
pub async fn connect(paths: &Paths, args: ConnectArgs) -> anyhow::Result<()> {
    let me = std::env::current_exe().context("finding our own executable")?;
    let announce = |text: &str| eprintln!("switchboard: {text}");
    headless::bridge(paths, &me, &args.host, args.server.as_deref(), announce).await?;
    Ok(())
}
