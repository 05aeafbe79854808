//! Text output: tables, durations, sizes. JSON output is serde's.

use switchboard_core::clock::{Clock, SystemClock};

use switchboard_core::{ServerSpec, spec::Launch};

use switchboard_runtime::{ServerState, ServerStatus};

/// An error in what the user typed (exit code 2).
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// `npx -y pkg` or `https://… (sse)`.
pub fn describe_launch(spec: &ServerSpec) -> String {
    match &spec.launch {
        Launch::Stdio { command, args, .. } => {
            let mut words = vec![quote(command)];
            words.extend(args.iter().map(|a| quote(a)));
            words.join(" ")
        }
        Launch::Remote { url, .. } => format!("{url} ({})", spec.transport()),
    }
}

fn quote(word: &str) -> String {
    if !word.is_empty()
        && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:@=+,%".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

pub fn status_table(statuses: &[ServerStatus]) -> String {
    let now = SystemClock.now_ms();
    let mut rows =
        vec![["NAME", "STATE", "PID", "RESTARTS", "UPTIME", "CPU", "RSS"].map(String::from)];
    for s in statuses {
        let (pid, uptime) = match &s.state {
            ServerState::Running { pid, since_ms } => (
                pid.map_or_else(|| "-".into(), |p| p.to_string()),
                duration(now.saturating_sub(*since_ms) / 1000),
            ),
            _ => ("-".into(), "-".into()),
        };
        let (cpu, rss) = match &s.stats {
            Some(stats) => (format!("{:.1}%", stats.cpu_percent), bytes(stats.rss_bytes)),
            None => ("-".into(), "-".into()),
        };
        rows.push([
            s.name.to_string(),
            state_label(&s.state, now),
            pid,
            s.restarts.to_string(),
            uptime,
            cpu,
            rss,
        ]);
    }
    table(&rows)
}

pub fn state_label(state: &ServerState, now_ms: u64) -> String {
    match state {
        ServerState::BackingOff { attempt, until_ms } => format!(
            "backing-off (attempt {attempt}, {} s)",
            until_ms.saturating_sub(now_ms).div_ceil(1000)
        ),
        other => other.label().to_owned(),
    }
}

pub fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> =
            row.iter().enumerate().map(|(i, c)| format!("{c:<w$}", w = widths[i])).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

pub fn duration(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s if s < 86_400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        s => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600),
    }
}

pub fn bytes(n: u64) -> String {
    match n {
        n if n < 1024 * 1024 => format!("{:.0} KiB", n as f64 / 1024.0),
        n if n < 1024 * 1024 * 1024 => format!("{:.1} MiB", n as f64 / 1048576.0),
        n => format!("{:.2} GiB", n as f64 / 1073741824.0),
    }
}
