//! The names the aggregate gateway endpoint gives servers' tools: always within hosts' limits
//! (1 to 64 of `[a-zA-Z0-9_-]`), a pure function, different for different (server, item) pairs,
//! and a name made without a hash splits back into its server and item.
//!
//! Input: four lines, two (server, item) pairs.
#![no_main]

use switchboard_core::ServerName;
use switchboard_fuzz::head_lines;
use switchboard_gateway::names::{MAX_NAME, exposed, split};

fn valid(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The name of one pair; checked when the server's name is one the registry allows (the only
/// names the gateway is given).
fn check(server: &str, item: &str) -> String {
    let name = exposed(server, item);
    assert_eq!(name, exposed(server, item), "not a pure function");
    if server.parse::<ServerName>().is_err() {
        return name;
    }
    assert!(valid(&name), "exposed({server:?}, {item:?}) = {name:?}");
    let plain = !item.is_empty() && valid(item) && name.ends_with(&format!("__{item}"));
    if plain {
        assert_eq!(split(&name), Some((server.to_owned(), item)), "{name:?} does not split back");
    }
    name
}

libfuzzer_sys::fuzz_target!(init: switchboard_fuzz::init(), |data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (lines, _) = head_lines(&text, 4);
    let a = check(lines[0], lines[1]);
    let b = check(lines[2], lines[3]);
    // Server names are what the registry allows; for those, no two pairs share a name.
    let servers_valid = [lines[0], lines[2]].iter().all(|s| s.parse::<ServerName>().is_ok());
    if servers_valid && (lines[0], lines[1]) != (lines[2], lines[3]) {
        assert_ne!(a, b, "{:?} and {:?} are both exposed as {a:?}", (lines[0], lines[1]), (lines[2], lines[3]));
    }
});
