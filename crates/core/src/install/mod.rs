//! Installing a catalog entry: what it asks for (`inputs`), and the plan that turns an entry and
//! the user's answers into a registry entry.

pub mod inputs;
pub mod plan;

pub use inputs::{Answers, Field, FieldKind, Resolved, Way, check, fields, resolve};
pub use plan::{Plan, Start, Step, Toolbox, plan};
