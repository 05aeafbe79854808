//! The YAML config editor: an edit of an arbitrary file with an arbitrary entry is refused, or
//! means the old file plus exactly that entry; apply then remove restores the bytes
//! (switchboard_fuzz::edit has the property and the input layout).
#![no_main]

libfuzzer_sys::fuzz_target!(init: switchboard_fuzz::init(), |data: &[u8]| {
    switchboard_fuzz::edit::check(switchboard_config_edit::Format::Yaml, data);
});
