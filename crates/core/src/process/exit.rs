//! How a process ended, in words a person and the window both read.

use serde::{Deserialize, Serialize};

/// How a process ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Exit {
    Code(i32),
    Signal(i32),
    /// The exit status could not be read.
    Unknown(String),
}

impl Exit {
    pub fn from_status(status: std::io::Result<std::process::ExitStatus>) -> Exit {
        match status {
            Err(e) => Exit::Unknown(e.to_string()),
            Ok(status) => {
                if let Some(code) = status.code() {
                    return Exit::Code(code);
                }
                #[cfg(unix)]
                {
                    use std::os::unix::process::ExitStatusExt;
                    if let Some(signal) = status.signal() {
                        return Exit::Signal(signal);
                    }
                }
                Exit::Unknown(status.to_string())
            }
        }
    }

    pub fn is_success(&self) -> bool {
        matches!(self, Exit::Code(0))
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code(code) => write!(f, "exited with code {code}"),
            Exit::Signal(signal) => write!(f, "killed by signal {signal}{}", signal_name(*signal)),
            Exit::Unknown(why) => write!(f, "ended ({why})"),
        }
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        1 => " (SIGHUP)",
        2 => " (SIGINT)",
        6 => " (SIGABRT)",
        9 => " (SIGKILL)",
        11 => " (SIGSEGV)",
        15 => " (SIGTERM)",
        _ => "",
    }
}
