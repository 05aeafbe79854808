//! What the app manages: the owner of the servers, or why it could not become one.

use std::sync::{Arc, Mutex};

use switchboard_api::Link;
use switchboard_runtime::tester::Workbench;

use switchboard_core::{ErrorCode, WireError};

pub struct AppState {
    /// The servers' owner: this process, or another one the app is attached to.
    link: Mutex<Option<Link>>,
    /// The Tester view's sessions; available even when another process owns the servers.
    pub workbench: Option<Arc<Workbench>>,
    /// Why the app can reach no owner at all.
    pub error: Option<WireError>,
    /// Host config files (the Hosts view) and the guardian watching the ones we wrote.
    pub hosts: Option<Arc<switchboard_hosts::Hosts>>,
    pub guardian: Option<switchboard_hosts::Guardian>,
    /// Where hosts reach the servers (kept alive with the app).
    pub gateway: Option<switchboard_gateway::Gateway>,
    /// The Knowledge base view's connection to the built-in server, opened on first use.
    pub kb: switchboard_api::knowledge_base::Connection,
    /// The owner the app is attached to is its background owner (`switchboard-app serve`, for
    /// servers that outlive the app): Quit stops it when `quitStopsServers` is on by then.
    pub background: bool,
}

impl AppState {
    pub fn new(
        link: Option<Link>,
        error: Option<WireError>,
        workbench: Option<Arc<Workbench>>,
    ) -> Self {
        AppState {
            link: Mutex::new(link),
            error,
            workbench,
            hosts: None,
            guardian: None,
            gateway: None,
            kb: Default::default(),
            background: false,
        }
    }

    pub fn workbench(&self) -> Result<Arc<Workbench>, WireError> {
        self.workbench.clone().ok_or_else(|| {
            self.error.clone().unwrap_or_else(|| WireError {
                code: ErrorCode::NoDataFolder,
                message: "Switchboard's data folder could not be determined".into(),
            })
        })
    }

    pub fn hosts(&self) -> Result<Arc<switchboard_hosts::Hosts>, WireError> {
        self.hosts.clone().ok_or_else(|| WireError {
            code: ErrorCode::NoHomeFolder,
            message: "no home folder was found, so the hosts' config files cannot be located"
                .into(),
        })
    }

    pub fn link(&self) -> Result<Link, WireError> {
        let link = self.link.lock().unwrap_or_else(|p| p.into_inner()).clone();
        link.ok_or_else(|| {
            self.error.clone().unwrap_or_else(|| WireError {
                code: ErrorCode::ShuttingDown,
                message: "Switchboard is quitting".into(),
            })
        })
    }

    /// Lets go of the owner (at quit); later calls fail with "quitting".
    pub fn take_link(&self) -> Option<Link> {
        self.link.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}
