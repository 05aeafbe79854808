//! The names the aggregate endpoint (`/mcp`) gives each server's tools and prompts: a pure
//! function of the server's name and the item's name, unique across servers, within hosts'
//! limits (at most 64 characters of `[a-zA-Z0-9_-]`), so hosts' prompt caches keep hitting.
//!
//! `<server>__<item>`: server names are `[a-z0-9._-]`, so the server part is escaped — `_` is
//! written `_U` and `.` is written `_D` — and never contains `__` nor ends in `_`. The first
//! `__` of a name therefore always ends the server part, whatever the item's name holds, and two
//! different (server, item) pairs never give the same name. A name that would be longer than 64
//! characters, or whose item part has characters hosts refuse, is cut and given a hash of the
//! whole pair instead (see [`exposed`]); the gateway routes by a table, never by parsing.

use sha2::{Digest, Sha256};

/// Hosts' limit on a tool's name.
pub const MAX_NAME: usize = 64;

/// The server part of an exposed name: `_` → `_U`, `.` → `_D`; the rest is already allowed.
pub fn escape_server(server: &str) -> String {
    let mut out = String::with_capacity(server.len() + 4);
    for c in server.chars() {
        match c {
            '_' => out.push_str("_U"),
            '.' => out.push_str("_D"),
            c => out.push(c),
        }
    }
    out
}

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// The name `item` of `server` is exposed under on the aggregate endpoint.
pub fn exposed(server: &str, item: &str) -> String {
    let plain = format!("{}__{item}", escape_server(server));
    if plain.len() <= MAX_NAME && item.chars().all(allowed) && !item.is_empty() {
        return plain;
    }
    // Too long, or an item name hosts would refuse: a readable prefix plus 12 hex digits of
    // SHA-256 over the exact pair (length-prefixed, so no two pairs hash the same input).
    let digest = Sha256::digest(format!("{}:{server}{item}", server.len()).as_bytes());
    let hash: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    let readable: String = plain.chars().map(|c| if allowed(c) { c } else { '-' }).collect();
    let keep = MAX_NAME - hash.len() - 1;
    let prefix: String = readable.chars().take(keep).collect();
    format!("{prefix}-{hash}")
}

/// Splits a name [`exposed`] made without a hash back into its server and item; `None` for a
/// name that is not of that form (hashed names are found through the gateway's table).
pub fn split(name: &str) -> Option<(String, &str)> {
    let at = name.find("__")?;
    let (escaped, item) = (&name[..at], &name[at + 2..]);
    let mut server = String::with_capacity(escaped.len());
    let mut chars = escaped.chars();
    while let Some(c) = chars.next() {
        match c {
            '_' => match chars.next() {
                Some('U') => server.push('_'),
                Some('D') => server.push('.'),
                _ => return None,
            },
            c => server.push(c),
        }
    }
    (!item.is_empty()).then_some((server, item))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(name: &str) -> bool {
        !name.is_empty() && name.len() <= MAX_NAME && name.chars().all(allowed)
    }

    #[test]
    fn plain_names_read_as_server_then_item() {
        assert_eq!(exposed("github", "create_issue"), "github__create_issue");
        assert_eq!(exposed("server-everything", "echo"), "server-everything__echo");
        assert_eq!(exposed("io.github.x", "t"), "io_Dgithub_Dx__t");
        assert_eq!(exposed("my_srv", "a__b"), "my_Usrv__a__b");
        assert_eq!(split("my_Usrv__a__b"), Some(("my_srv".to_owned(), "a__b")));
        assert_eq!(split("io_Dgithub_Dx__t"), Some(("io.github.x".to_owned(), "t")));
    }

    #[test]
    fn pairs_that_a_naive_join_confuses_stay_apart() {
        // `a__b` + `c` and `a` + `b__c` both join to `a__b__c` naively.
        assert_ne!(exposed("a__b", "c"), exposed("a", "b__c"));
        assert_ne!(exposed("a_b", "c"), exposed("a.b", "c"));
        assert_ne!(exposed("a-b", "c"), exposed("a", "b-c"));
        assert_eq!(split(&exposed("a__b", "c")), Some(("a__b".to_owned(), "c")));
    }

    #[test]
    fn long_or_odd_names_are_cut_with_a_hash_of_the_pair_within_the_limit() {
        let long_tool = "t".repeat(80);
        let a = exposed("srv", &long_tool);
        let b = exposed("srv", &format!("{long_tool}x"));
        assert!(valid(&a) && valid(&b), "{a} {b}");
        assert_eq!(a.len(), MAX_NAME);
        assert_ne!(a, b);
        assert_eq!(a, exposed("srv", &long_tool), "a pure function");
        let dotted = exposed("srv", "files.read");
        assert!(valid(&dotted) && dotted.starts_with("srv__files-read-"), "{dotted}");
        assert_ne!(dotted, exposed("srv", "files-read"));
    }

    #[test]
    fn every_pair_of_a_dense_grid_gets_a_valid_distinct_name() {
        let servers = ["a", "a_b", "a.b", "a-b", "a__b", "ab", "a_ub", "a_db", &"s".repeat(64)];
        let items = ["c", "b__c", "_c", "c_", "__", "x.y", "Ü", &"i".repeat(70), "b_c"];
        let mut seen = std::collections::HashMap::new();
        for server in servers {
            for item in items {
                let name = exposed(server, item);
                assert!(valid(&name), "{server} {item}: {name}");
                if let Some(other) = seen.insert(name.clone(), (server, item)) {
                    panic!("{name} for both {other:?} and {:?}", (server, item));
                }
            }
        }
    }
}
