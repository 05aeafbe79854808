//! CPU and memory of each running server's whole process tree (`npx` starts `node`, which may
//! start more), sampled with `sysinfo`.

use std::collections::HashMap;

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use crate::status::ProcessStats;

/// Keeps the `sysinfo` state between samples (CPU usage is a difference between two samples).
#[derive(Debug)]
pub(crate) struct Sampler {
    system: System,
}

impl Sampler {
    pub fn new() -> Self {
        Sampler { system: System::new() }
    }

    /// Refreshes every process and sums each root's tree.
    pub fn sample(&mut self, roots: &[u32]) -> Vec<Option<ProcessStats>> {
        if roots.is_empty() {
            return Vec::new();
        }
        self.system.refresh_processes_specifics(
            ProcessesToUpdate::All,
            true,
            ProcessRefreshKind::nothing().with_cpu().with_memory(),
        );
        let mut children: HashMap<Pid, Vec<Pid>> = HashMap::new();
        for (pid, process) in self.system.processes() {
            // On Linux sysinfo lists threads as tasks of their process too; counting them would
            // multiply a multi-threaded server's memory by its thread count.
            if process.thread_kind().is_some() {
                continue;
            }
            if let Some(parent) = process.parent() {
                children.entry(parent).or_default().push(*pid);
            }
        }
        roots
            .iter()
            .map(|root| {
                let root = Pid::from_u32(*root);
                self.system.process(root)?;
                let mut stats = ProcessStats::default();
                let mut stack = vec![root];
                while let Some(pid) = stack.pop() {
                    if let Some(process) = self.system.process(pid) {
                        stats.cpu_percent += process.cpu_usage();
                        stats.rss_bytes += process.memory();
                        stats.processes += 1;
                    }
                    if let Some(kids) = children.get(&pid) {
                        stack.extend(kids);
                    }
                }
                Some(stats)
            })
            .collect()
    }
}
