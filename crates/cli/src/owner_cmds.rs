//! `serve` (become the owner) and the commands that talk to the owner: `start`, `stop`,
//! `restart`, `status`, `logs`, `events`.

use std::io::Write;

use futures::StreamExt;
use switchboard_core::{
    Paths,
    logs::{LogSource, format_ms},
};
use switchboard_runtime::{Event, SupervisorConfig, control::ControlClient};

use crate::output;

/// Tells a running owner to re-read the registry; says so if it could not.
pub(crate) async fn notify_owner(paths: &Paths) {
    if let Ok(client) = ControlClient::connect(paths)
        && let Err(e) = client.reload().await
    {
        eprintln!("switchboard: warning: the running owner did not reload the registry: {e}");
    }
}

/// Becomes the owner, as the app does (the same `switchboard_api::launch`): the knowledge base is
/// registered, the enabled servers start, and drift in the host files we wrote is reported (and
/// written back when the `hostsAutoReapply` setting is on).
pub async fn serve(paths: Paths, env: switchboard_core::Env) -> anyhow::Result<()> {
    let launch =
        switchboard_api::Launch { kind: "serve", config: SupervisorConfig::default(), env };
    let launched = switchboard_api::launch(paths, launch).await?;
    let owner = launched.owner.clone();
    for swept in owner.swept() {
        eprintln!(
            "switchboard: ended {} process(es) of {} (pid {}) left behind by a previous owner",
            swept.ended, swept.server, swept.pid
        );
    }
    let info = owner.info();
    eprintln!(
        "switchboard: serving {} server(s) from {} (pid {}, control on 127.0.0.1:{}); \
         stop with Ctrl-C",
        owner.supervisor().status().len(),
        owner.paths().registry_file().display(),
        info.pid,
        info.port
    );
    match &launched.gateway {
        Some(gateway) => eprintln!("switchboard: hosts reach the servers at {}", gateway.url()),
        None => eprintln!(
            "switchboard: the gateway did not start (see the log); hosts cannot reach the servers"
        ),
    }
    let drift = tokio::spawn(report_drift(owner.supervisor().subscribe()));
    let started = launched.start_servers();
    let starting = tokio::spawn(async move {
        for (_, error) in started.await {
            eprintln!("switchboard: {error}");
        }
    });
    let why = switchboard_api::headless::until_quit(&owner).await;
    eprintln!("switchboard: {why}; stopping every server");
    starting.abort();
    drift.abort();
    switchboard_api::headless::stop(launched).await;
    Ok(())
}

/// Prints each host-drift event of the owner's stream, as the window shows it.
async fn report_drift(mut events: tokio::sync::broadcast::Receiver<Event>) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let report = match events.recv().await {
            Ok(Event::HostDrift { report }) => report,
            Ok(_) | Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return,
        };
        let names: Vec<&str> = report.drifted.iter().map(|e| e.name.as_str()).collect();
        let done = if report.reapplied { "; written back" } else { "" };
        eprintln!(
            "switchboard: {}: our entries {} changed in {}{done}{}",
            report.host,
            names.join(", "),
            report.path.display(),
            report.note.map(|n| format!(" ({n})")).unwrap_or_default()
        );
    }
}

/// `shutdown`: the owner stops its servers and ends; says so when none was running.
pub async fn shutdown(paths: &Paths) -> anyhow::Result<()> {
    if switchboard_api::headless::quit_owner(paths).await? {
        println!("Switchboard stopped its servers and quit");
    } else {
        println!("no Switchboard was running");
    }
    Ok(())
}

pub async fn action(paths: &Paths, name: &str, action: &str) -> anyhow::Result<()> {
    let client = ControlClient::connect(paths)?;
    let status = client.action(name, action).await?;
    let done = match action {
        "start" => "started",
        "stop" => "stopped",
        _ => "restarted",
    };
    match status.pid() {
        Some(pid) => println!("{done} {name} (pid {pid})"),
        None => println!("{done} {name}"),
    }
    Ok(())
}

pub async fn status(paths: &Paths, json: bool) -> anyhow::Result<()> {
    let client = ControlClient::connect(paths)?;
    let statuses = client.status().await?;
    if json {
        return output::print_json(&statuses);
    }
    if statuses.is_empty() {
        println!("no servers registered");
    } else {
        print!("{}", output::status_table(&statuses));
    }
    Ok(())
}

pub async fn logs(paths: &Paths, name: &str, follow: bool) -> anyhow::Result<()> {
    let client = ControlClient::connect(paths)?;
    let print = |line: &switchboard_core::logs::LogLine| {
        let tag = match line.source {
            LogSource::Stderr => "",
            LogSource::Supervisor => "[switchboard] ",
        };
        let mut out = std::io::stdout().lock();
        // A closed pipe (`| head`) is not an error worth reporting.
        let _ = writeln!(out, "{} {tag}{}", format_ms(line.at_ms), line.text);
        let _ = out.flush();
    };
    if !follow {
        for line in client.logs(name).await? {
            print(&line);
        }
        return Ok(());
    }
    let mut lines = std::pin::pin!(client.follow_logs(name).await?);
    while let Some(line) = lines.next().await {
        print(&line?);
    }
    Ok(())
}

pub async fn events(paths: &Paths) -> anyhow::Result<()> {
    let client = ControlClient::connect(paths)?;
    let mut events = std::pin::pin!(client.events().await?);
    while let Some(line) = events.next().await {
        let line = line?;
        // The owner's last line to a reader that fell behind (see the control endpoint).
        if line.starts_with("{\"event\":\"dropped\"")
            && let Ok(dropped) = serde_json::from_str::<serde_json::Value>(&line)
        {
            anyhow::bail!(
                "{}",
                dropped["reason"].as_str().unwrap_or("this reader fell behind and was dropped")
            );
        }
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            break;
        }
    }
    Ok(())
}
