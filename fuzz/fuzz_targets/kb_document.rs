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

use std::{collections::HashSet, path::Path};

use switchboard_kb::{engine::yaml_string, source};

const NAMES: [&str; 5] = ["notes/doc.md", "doc.mdx", "doc.markdown", "doc.txt", "README"];

libfuzzer_sys::fuzz_target!(init: switchboard_fuzz::init(), |data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else { return };
    let path = Path::new(NAMES[usize::from(which) % NAMES.len()]);
    let Ok(text) = source::decode(bytes.to_vec()) else { return };
    let doc = source::parse(path, &text);

    assert!(!doc.sections.is_empty(), "a document without sections");
    assert!(!doc.title.trim().is_empty(), "a blank title");
    let mut anchors = HashSet::new();
    let mut last_start = 0;
    for s in &doc.sections {
        assert!(s.start <= text.len() && text.is_char_boundary(s.start), "section start {}", s.start);
        assert!(s.start >= last_start, "sections out of order");
        last_start = s.start;
        assert!(s.level <= 6);
        assert!(s.text.len() <= 256 * 1024, "a section's text is over its bound");
        if s.level > 0 {
            let line = 1 + text[..s.start].matches('\n').count();
            assert_eq!(s.line as usize, line, "heading {:?} at byte {}", s.heading, s.start);
            assert!(
                anchors.insert(s.anchor.clone()),
                "two sections have the anchor {:?}; the second cannot be read by it",
                s.anchor
            );
        }
    }
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
