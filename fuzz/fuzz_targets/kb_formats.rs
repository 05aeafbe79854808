//! The knowledge base's other formats read through `source::load`: an HTML page, a PDF, source
//! code. Any bytes give either a skip with a reason or a document with at least one section and
//! a title; every section starts at a character boundary inside the document's text, in order, on
//! the line its `line` says; headings' anchors are unique (a section is read back by its anchor);
//! text stays within its bound; a PDF's sections are its pages, `Page N` with anchor `page=N`.
//! A panic inside the PDF reader is contained by `load` (reported as a skip), so this target
//! restores the default panic hook: libFuzzer's would abort even on a panic that is caught.
//!
//! Input: byte 0 picks the file name (`.html`, `.pdf`, `.rs`, `.py`, `.ts`, `.go`, `.c`), the
//! rest is the file.
#![no_main]

use std::{collections::HashSet, path::Path};

use switchboard_kb::source::{self, Format};

const NAMES: [&str; 7] = ["page.html", "doc.pdf", "lib.rs", "app.py", "index.ts", "main.go", "x.c"];

libfuzzer_sys::fuzz_target!(init: {
    switchboard_fuzz::init();
    // A panic the code under test catches is not a finding; one in this closure still aborts
    // (libfuzzer-sys aborts when the closure unwinds).
    let _ = std::panic::take_hook();
}, |data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else { return };
    let path = Path::new(NAMES[usize::from(which) % NAMES.len()]);
    let Ok(loaded) = source::load(path, bytes.to_vec()) else { return };
    let (doc, text) = (&loaded.doc, &loaded.text);
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
            assert_eq!(s.line as usize, line, "section {:?} at byte {}", s.heading, s.start);
            assert!(anchors.insert(s.anchor.clone()), "two sections have the anchor {:?}", s.anchor);
        }
        if loaded.format == Format::Pdf {
            let page = s.anchor.strip_prefix("page=").expect("a PDF section's anchor is page=N");
            assert_eq!(s.heading, format!("Page {page}"));
            assert!(text[s.start..].starts_with(&format!("# {}\n", s.heading)));
        }
    }
});
