//! What the app manages: the owner of the servers, or why it could not become one.

use std::sync::{Arc, Mutex};

use switchboard_runtime::{Owner, tester::Workbench};

use switchboard_core::{ErrorCode, WireError};

pub struct AppState {
    owner: Mutex<Option<Arc<Owner>>>,
    /// The Tester view's sessions; available even when another process owns the servers.
    pub workbench: Option<Arc<Workbench>>,
    /// Why the app is not the owner (for example `switchboard serve` already is).
    pub error: Option<WireError>,
    /// Host config files (the Hosts view) and the guardian watching the ones we wrote.
    pub hosts: Option<Arc<switchboard_hosts::Hosts>>,
    pub guardian: Option<switchboard_hosts::Guardian>,
    /// Where hosts reach the servers (kept alive with the app).
    pub gateway: Option<switchboard_gateway::Gateway>,
    /// The Knowledge base view's connection to the built-in server, opened on first use.
    pub kb: switchboard_api::knowledge_base::Connection,
}

impl AppState {
    pub fn new(
        owner: Option<Arc<Owner>>,
        error: Option<WireError>,
        workbench: Option<Arc<Workbench>>,
    ) -> Self {
        AppState {
            owner: Mutex::new(owner),
            error,
            workbench,
            hosts: None,
            guardian: None,
            gateway: None,
            kb: Default::default(),
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

    pub fn owner(&self) -> Result<Arc<Owner>, WireError> {
        let owner = self.owner.lock().unwrap_or_else(|p| p.into_inner()).clone();
        owner.ok_or_else(|| {
            self.error.clone().unwrap_or_else(|| WireError {
                code: ErrorCode::ShuttingDown,
                message: "Switchboard is quitting".into(),
            })
        })
    }

    /// Gives up the owner (at quit); later calls return `None`.
    pub fn take_owner(&self) -> Option<Arc<Owner>> {
        self.owner.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}
