//! Integration tests of the core against real files and real child processes (the `sb-fixture`
//! server from switchboard-testkit).

#![allow(clippy::expect_used)] // a test whose set-up fails should stop loudly

mod control;
mod events;
mod supervisor;
mod support;
mod tester;
