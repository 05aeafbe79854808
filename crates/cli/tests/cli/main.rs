//! The `switchboard` binary as a user runs it: a temp `SWITCHBOARD_HOME`, real `serve` processes,
//! real fixture servers, the real `@modelcontextprotocol/server-everything` from npm.

#![allow(clippy::expect_used)] // a test whose set-up fails should stop loudly

mod bridge;
mod catalog;
mod commands;
mod gateway;
mod hosts;
mod install;
mod kb;
mod peers;
mod serve;
mod support;
mod tester;
