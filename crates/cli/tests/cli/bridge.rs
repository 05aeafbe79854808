//! A host's stdio bridge (`switchboard connect`) driven line by line, for the tests of the
//! gateway, the kill loops and the load run.

use std::{
    io::{BufRead, BufReader, Write},
    process::{Child, ChildStdin, Stdio},
    sync::mpsc,
    time::Duration,
};

use serde_json::{Value, json};

use crate::support::Home;

/// A running `switchboard connect`, spoken to line by line.
pub(crate) struct Bridge {
    pub(crate) child: Child,
    /// `None` once the host closed its end ([`Bridge::close`]).
    stdin: Option<ChildStdin>,
    pub(crate) lines: mpsc::Receiver<String>,
    next_id: u64,
    /// Messages read while waiting for something else (notifications, mostly).
    pub(crate) seen: Vec<Value>,
}

impl Bridge {
    pub(crate) fn start(home: &Home, args: &[&str]) -> Bridge {
        let mut all = vec!["connect"];
        all.extend_from_slice(args);
        let stderr = std::fs::File::create(home.path().join("connect.stderr")).expect("stderr");
        let mut child = home
            .command(&all)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn connect");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Bridge { child, stdin: Some(stdin), lines, next_id: 0, seen: Vec::new() }
    }

    pub(crate) fn send(&mut self, message: &Value) {
        let stdin = self.stdin.as_mut().expect("the bridge's input is open");
        writeln!(stdin, "{message}").expect("write to the bridge");
        stdin.flush().expect("flush");
    }

    /// The host quits as hosts do: it closes the bridge's input, and the bridge ends its
    /// session with the gateway and exits.
    pub(crate) fn close(&mut self) {
        self.stdin = None;
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().expect("wait").is_none() {
            assert!(std::time::Instant::now() < deadline, "the bridge did not exit on EOF");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends a request and waits for the answer with its id (notifications are skipped).
    pub(crate) fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("no answer to {method}"));
            let message: Value = serde_json::from_str(&line).expect("JSON from the bridge");
            if message["id"] == id {
                return message;
            }
            self.seen.push(message);
        }
    }

    /// Waits for a notification `method` from the gateway.
    pub(crate) fn notified(&mut self, method: &str) -> bool {
        if let Some(at) = self.seen.iter().position(|m| m["method"] == method) {
            self.seen.remove(at);
            return true;
        }
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(30)) {
            let message: Value = serde_json::from_str(&line).expect("JSON from the bridge");
            if message["method"] == method {
                return true;
            }
            self.seen.push(message);
        }
        false
    }

    pub(crate) fn initialize(&mut self) -> Value {
        let answer = self.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "hand-written", "version": "1"}}),
        );
        self.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        answer
    }

    pub(crate) fn call(&mut self, tool: &str, arguments: Value) -> String {
        let answer = self.request("tools/call", json!({"name": tool, "arguments": arguments}));
        answer["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("no text in {answer}"))
            .to_owned()
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
