//! Integration tests of the core against real files and real child processes (the `sb-fixture`
//! server from switchboard-testkit).

mod registry;
mod supervisor;
mod support;
