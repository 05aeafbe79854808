//! `switchboard-kb`: the knowledge-base MCP server on its own (also `switchboard kb serve`).

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = switchboard_kb::serve::ServeArgs::parse();
    switchboard_kb::serve::main(args)
}
