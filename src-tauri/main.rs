//! The Switchboard tray app's entry point. `switchboard-app kb serve ...` runs the built-in
//! knowledge-base server instead of the app: the registry's entry for it points at whichever
//! Switchboard executable registered it, so it must not need the CLI to be installed.
//! `switchboard-app bridge URL ...` likewise forwards stdio to a remote server for hosts (Claude
//! Desktop) whose config entries the app wrote with its own path. `switchboard-app serve` is the
//! headless owner the app starts when its servers must outlive it, and `switchboard-app connect
//! [--host HOST] [--server NAME]` the stdio bridge a connected host's entry runs.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("kb")
        && args.get(2).map(String::as_str) == Some("serve")
    {
        use clap::Parser;
        let argv = std::iter::once("switchboard-kb".to_string()).chain(args.into_iter().skip(3));
        let parsed = switchboard_kb::serve::ServeArgs::parse_from(argv);
        std::process::exit(match switchboard_kb::serve::main(parsed) {
            code if code == std::process::ExitCode::SUCCESS => 0,
            _ => 1,
        });
    }
    if args.get(1).map(String::as_str) == Some("bridge") {
        let code = switchboard_core::mcp::bridge::main(args.into_iter().skip(2));
        std::process::exit(if code == std::process::ExitCode::SUCCESS { 0 } else { 1 });
    }
    if args.get(1).map(String::as_str) == Some("connect") {
        std::process::exit(switchboard_app::connect_headless(&args[2..]));
    }
    if args.get(1).map(String::as_str) == Some("serve") {
        std::process::exit(switchboard_app::serve_headless(&args[2..]));
    }
    switchboard_app::run();
}
