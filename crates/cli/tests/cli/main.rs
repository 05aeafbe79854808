//! The `switchboard` binary as a user runs it: a temp `SWITCHBOARD_HOME`, real `serve` processes,
//! real fixture servers, the real `@modelcontextprotocol/server-everything` from npm.

mod commands;
mod peers;
mod serve;
mod support;
