//! `serve` (become the owner) and the commands that talk to the owner: `start`, `stop`,
//! `restart`, `status`, `logs`, `events`.

use std::io::Write;

use futures::StreamExt;
use switchboard_core::{
    Owner, Paths, SupervisorConfig,
    control::ControlClient,
    logs::{LogSource, format_ms},
};

use crate::output;

/// Tells a running owner to re-read the registry; says so if it could not.
pub(crate) async fn notify_owner(paths: &Paths) {
    if let Ok(client) = ControlClient::connect(paths)
        && let Err(e) = client.reload().await
    {
        eprintln!("switchboard: warning: the running owner did not reload the registry: {e}");
    }
}

/// The host guardian, as in the app: drift in the host files we wrote is logged, and written back
/// when the `hostsAutoReapply` setting is on.
fn start_guardian(paths: &Paths) -> Option<switchboard_hosts::Guardian> {
    use switchboard_hosts::{Guardian, GuardianOptions, HostEnv, Hosts};
    let env = HostEnv::from_env()?;
    let bridge = switchboard_hosts::Bridge::current();
    let auto = switchboard_core::settings::load(paths).is_ok_and(|s| s.hosts_auto_reapply);
    let guardian = Guardian::start(
        Hosts::new(paths, env, bridge),
        switchboard_core::Registry::new(paths),
        GuardianOptions { auto_reapply: auto, ..Default::default() },
    );
    match guardian {
        Ok(guardian) => {
            let mut reports = guardian.subscribe();
            tokio::spawn(async move {
                while let Ok(report) = reports.recv().await {
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
            });
            Some(guardian)
        }
        Err(e) => {
            eprintln!("switchboard: the host guardian did not start: {e}");
            None
        }
    }
}

pub async fn serve(paths: Paths) -> anyhow::Result<()> {
    let owner = Owner::start(paths, SupervisorConfig::default(), "serve").await?;
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
    let _guardian = start_guardian(owner.paths());
    let supervisor = owner.supervisor().clone();
    let starting = tokio::spawn(async move {
        for (name, error) in supervisor.start_enabled().await {
            let _ = name;
            eprintln!("switchboard: {error}");
        }
    });
    wait_for_termination().await;
    eprintln!("switchboard: stopping every server");
    starting.abort();
    owner.shutdown().await;
    Ok(())
}

#[cfg(unix)]
async fn wait_for_termination() {
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
        (Ok(mut int), Ok(mut term)) => {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_termination() {
    let _ = tokio::signal::ctrl_c().await;
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
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{}", line?).and_then(|()| out.flush()).is_err() {
            break;
        }
    }
    Ok(())
}
