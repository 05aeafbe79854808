//! A zip writer that writes exactly what it is told: any name (`../x`, `/abs`, duplicates,
//! `./manifest.json`), any Unix mode (directories, symlinks, set-uid bits), stored (not
//! compressed). Library writers refuse some of these; an attacker's bundle would not.

/// One archive entry.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: Vec<u8>,
    /// The Unix mode with its type bits (`0o100644` a file, `0o040755` a folder, `0o120777` a
    /// symlink); `None`: written as made on DOS, with no mode.
    pub mode: Option<u32>,
    pub data: Vec<u8>,
}

/// CRC-32 (IEEE), bit by bit: archives here are small.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn u16le(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn u32le(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Lengths are cut to what the format holds; the inputs are far smaller.
fn len16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The bytes of a zip archive holding `entries`, in order.
pub fn write(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for entry in entries {
        let offset = len32(out.len());
        let crc = crc32(&entry.data);
        let utf8 = std::str::from_utf8(&entry.name).is_ok();
        let flags: u16 = if utf8 { 0x0800 } else { 0 };
        // Local file header.
        u32le(&mut out, 0x0403_4b50);
        u16le(&mut out, 20);
        u16le(&mut out, flags);
        u16le(&mut out, 0); // stored
        u16le(&mut out, 0); // time
        u16le(&mut out, 0x21); // 1980-01-01
        u32le(&mut out, crc);
        u32le(&mut out, len32(entry.data.len()));
        u32le(&mut out, len32(entry.data.len()));
        u16le(&mut out, len16(entry.name.len()));
        u16le(&mut out, 0);
        out.extend_from_slice(&entry.name);
        out.extend_from_slice(&entry.data);
        // Central directory header.
        u32le(&mut central, 0x0201_4b50);
        u16le(&mut central, if entry.mode.is_some() { (3 << 8) | 20 } else { 20 });
        u16le(&mut central, 20);
        u16le(&mut central, flags);
        u16le(&mut central, 0);
        u16le(&mut central, 0);
        u16le(&mut central, 0x21);
        u32le(&mut central, crc);
        u32le(&mut central, len32(entry.data.len()));
        u32le(&mut central, len32(entry.data.len()));
        u16le(&mut central, len16(entry.name.len()));
        u16le(&mut central, 0); // extra
        u16le(&mut central, 0); // comment
        u16le(&mut central, 0); // disk
        u16le(&mut central, 0); // internal attributes
        let external = match entry.mode {
            Some(mode) => mode << 16,
            None if entry.name.ends_with(b"/") => 0x10, // DOS directory
            None => 0,
        };
        u32le(&mut central, external);
        u32le(&mut central, offset);
        central.extend_from_slice(&entry.name);
    }
    let central_offset = len32(out.len());
    let central_size = len32(central.len());
    out.extend_from_slice(&central);
    u32le(&mut out, 0x0605_4b50);
    u16le(&mut out, 0);
    u16le(&mut out, 0);
    u16le(&mut out, len16(entries.len()));
    u16le(&mut out, len16(entries.len()));
    u32le(&mut out, central_size);
    u32le(&mut out, central_offset);
    u16le(&mut out, 0);
    out
}

/// Parses the text form the `mcpb_bundle` target's inputs use into entries. Entries are
/// separated by a line `@@`; an entry's first line is `<kind><mode> <name>` (`f644 bin/x`,
/// `d755 lib/`, `l777 link`, `- name` for no mode), the rest of it is its content (a symlink's
/// content is its target).
pub fn parse_entries(text: &[u8]) -> Vec<Entry> {
    let mut entries = Vec::new();
    for chunk in split_on(text, b"\n@@\n") {
        let (head, data) = match chunk.iter().position(|&b| b == b'\n') {
            Some(at) => (&chunk[..at], chunk[at + 1..].to_vec()),
            None => (chunk, Vec::new()),
        };
        let (spec, name) = match head.iter().position(|&b| b == b' ') {
            Some(at) => (&head[..at], head[at + 1..].to_vec()),
            None => (&b"f644"[..], head.to_vec()),
        };
        let kind = spec.first().copied().unwrap_or(b'f');
        let perms = std::str::from_utf8(spec.get(1..).unwrap_or_default())
            .ok()
            .and_then(|s| u32::from_str_radix(s, 8).ok())
            .unwrap_or(0o644)
            & 0o7777;
        let mode = match kind {
            b'd' => Some(0o040000 | perms),
            b'l' => Some(0o120000 | perms),
            b'-' => None,
            _ => Some(0o100000 | perms),
        };
        entries.push(Entry { name, mode, data });
    }
    entries
}

fn split_on<'a>(text: &'a [u8], separator: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.windows(separator.len()).position(|w| w == separator) {
        parts.push(&rest[..at]);
        rest = &rest[at + separator.len()..];
    }
    parts.push(rest);
    parts
}
