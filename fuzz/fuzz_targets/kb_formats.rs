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

use std::path::Path;

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
    switchboard_fuzz::check_sections(doc, text);
    if loaded.format == Format::Pdf {
        for s in &doc.sections {
            let page = s.anchor.strip_prefix("page=").expect("a PDF section's anchor is page=N");
            assert_eq!(s.heading, format!("Page {page}"));
            assert!(text[s.start..].starts_with(&format!("# {}\n", s.heading)));
        }
    }
});
