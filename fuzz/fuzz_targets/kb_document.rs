//! A knowledge-base document: front matter and sections split at headings. Any text gives a
//! document with at least one section; every section starts at a character boundary inside the
//! file, in file order, on the line its `line` says; headings' anchors are unique within the
//! document (a section is read back by its anchor); text stays within its bound; tags are
//! normalised; the title is never blank. And `yaml_string`, which writes new notes' front
//! matter, reads back as exactly the text it was given.
//!
//! Input: byte 0 picks the file name (`.md`, `.mdx`, `.markdown`, `.txt`, none), the rest is
//! the file.
#![no_main]

use std::path::Path;

use switchboard_kb::{engine::yaml_string, source};

const NAMES: [&str; 5] = ["notes/doc.md", "doc.mdx", "doc.markdown", "doc.txt", "README"];

libfuzzer_sys::fuzz_target!(init: switchboard_fuzz::init(), |data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else { return };
    let path = Path::new(NAMES[usize::from(which) % NAMES.len()]);
    let Ok(text) = source::decode(bytes.to_vec()) else { return };
    let doc = source::parse(path, &text);

    switchboard_fuzz::check_sections(&doc, &text);
    for tag in &doc.tags {
        assert!(!tag.is_empty() && *tag == source::normalize_tag(tag), "tag {tag:?}");
    }

    // New notes' front matter: what yaml_string writes reads back as exactly the text.
    let line = text.lines().next().unwrap_or_default();
    for sample in [line, text.as_str()] {
        let quoted = yaml_string(sample);
        match serde_norway::from_str::<String>(&quoted) {
            Ok(back) => assert_eq!(back, sample, "yaml_string({sample:?}) = {quoted}"),
            Err(e) => panic!("yaml_string({sample:?}) = {quoted} does not read back: {e}"),
        }
        let note = format!("---\ntitle: {quoted}\n---\n\nbody\n");
        let title = source::parse(Path::new("note.md"), &note).title;
        if !sample.trim().is_empty() {
            assert_eq!(title, sample.trim(), "a note's title does not read back");
        }
    }
});
