//! Installing a catalog entry: what it asks for (`inputs`), the plan that turns an entry and the
//! user's answers into commands (`plan`), MCPB bundles (`bundle`), and carrying it out with
//! verification, uninstall and update (`run`).

pub mod bundle;
mod error;
pub mod inputs;
pub mod plan;
mod rollback;
pub mod run;

pub use error::{Error, Result};
pub use inputs::{Answers, Field, FieldKind, Resolved, Way, check, fields, resolve};
pub use plan::{Plan, Start, Step, Toolbox, plan};
pub use run::{
    InstallRecord, Installed, Installer, PreparedUpdate, Progress, Request, ToolSummary, local_name,
};
