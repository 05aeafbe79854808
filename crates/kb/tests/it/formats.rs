//! PDF, HTML and code beside Markdown: files made in the test (the PDFs written byte by byte,
//! pages and paragraphs taken from the corpus's own Markdown, CC-BY-4.0 as it says), indexed with
//! sections that point at pages and lines, kept live by the watcher, and the bad ones (malformed,
//! encrypted, scanned, huge, vendored) skipped with their reason while the rest stays searchable.

use std::fs::File;

use switchboard_kb::index::SearchQuery;
use switchboard_testkit::wait_until;

use crate::support::{Kb, WAIT, corpus, write};

/// A PDF's bytes, built by hand: one page per entry, each a list of text lines set in
/// Helvetica; `encrypt` adds a standard security handler whose user password is not empty.
pub fn pdf(pages: &[Vec<String>], encrypt: bool) -> Vec<u8> {
    let streams = pages
        .iter()
        .map(|lines| {
            let mut stream = String::from("BT /F1 11 Tf 72 740 Td 14 TL\n");
            for line in lines {
                let escaped: String = line
                    .chars()
                    .map(|c| if c.is_ascii() && !c.is_ascii_control() { c } else { ' ' })
                    .collect::<String>()
                    .replace('\\', "\\\\")
                    .replace('(', "\\(")
                    .replace(')', "\\)");
                stream.push_str(&format!("({escaped}) Tj T*\n"));
            }
            stream.push_str("ET\n");
            stream
        })
        .collect();
    pdf_of(streams, encrypt)
}

/// A one-page PDF that is only a picture (a scan): no text operators at all.
fn scanned_pdf() -> Vec<u8> {
    pdf_of(vec!["0.5 g 0 0 612 792 re f\n".into()], false)
}

/// A PDF with these content streams, one page each, and a correct cross-reference table.
fn pdf_of(streams: Vec<String>, encrypt: bool) -> Vec<u8> {
    let mut objects: Vec<String> = Vec::new();
    // 1: catalog, 2: pages, 3: font, then per page: the page and its content stream.
    let kids: Vec<String> = (0..streams.len()).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    objects.push("<< /Type /Catalog /Pages 2 0 R >>".into());
    objects.push(format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), kids.len()));
    objects.push(
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".into(),
    );
    for (i, stream) in streams.iter().enumerate() {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            5 + 2 * i
        ));
        objects.push(format!("<< /Length {} >>\nstream\n{stream}endstream", stream.len()));
    }
    let mut trailer_extra = String::new();
    if encrypt {
        let id = objects.len() + 1;
        objects.push(format!(
            "<< /Filter /Standard /V 1 /R 2 /Length 40 /P -44 /O <{}> /U <{}> >>",
            "7a".repeat(32),
            "3c".repeat(32)
        ));
        trailer_extra = format!(
            " /Encrypt {id} 0 R /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>]"
        );
    }
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R{trailer_extra} >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// Paragraphs of a corpus page, as lines of at most 90 characters.
fn corpus_lines(path: &str) -> Vec<String> {
    let text = std::fs::read_to_string(corpus().join(path)).unwrap();
    let mut lines = Vec::new();
    for paragraph in text.split("\n\n").filter(|p| {
        let p = p.trim();
        !p.is_empty() && !p.starts_with(['-', '<', '`', '|', '#', '{', '!', '['])
    }) {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if line.len() + word.len() > 90 {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

/// A corpus Markdown page as a small HTML page with navigation, a script and a footer around it.
fn corpus_html(path: &str) -> String {
    let text = std::fs::read_to_string(corpus().join(path)).unwrap();
    let mut body = String::new();
    for block in text.split("\n\n") {
        let block = block.trim();
        let escaped = block.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        if let Some(h) = block.strip_prefix("## ") {
            body.push_str(&format!("<h2>{h}</h2>\n"));
        } else if let Some(h) = block.strip_prefix("# ") {
            body.push_str(&format!("<h1>{h}</h1>\n"));
        } else if !block.is_empty() && !block.starts_with("---") {
            body.push_str(&format!("<p>{escaped}</p>\n"));
        }
    }
    format!(
        "<!DOCTYPE html><html><head><title>Lifecycle page</title><script>var trackingPixel = 1;</script></head>\n<body><nav><a href='/'>Home</a> breadcrumbwombat</nav><main>\n{body}</main><footer>footerwombat</footer></body></html>\n"
    )
}

const LIFECYCLE: &str = "specification/2025-06-18/basic/lifecycle.mdx";

fn page_lines(n: usize) -> Vec<Vec<String>> {
    let lines = corpus_lines(LIFECYCLE);
    lines.chunks(lines.len().div_ceil(n)).map(<[String]>::to_vec).collect()
}

#[test]
fn pdf_html_and_code_are_indexed_with_sections_that_point_at_pages_and_lines() {
    let mut pages = page_lines(3);
    pages[1].push("The quokka clause lives on page two.".into());
    let kb = Kb::with(&[
        ("guide.md", "# Guide\n\nMarkdown still works: zebrafish.\n"),
        ("site/lifecycle.html", &corpus_html(LIFECYCLE)),
        (
            "src/billing.rs",
            "//! Billing.\n\n/// Totals an invoice.\npub fn invoice_total(lines: &[u64]) -> u64 {\n    lines.iter().sum()\n}\n\npub struct Ledger;\n",
        ),
    ]);
    std::fs::write(kb.docs().join("lifecycle.pdf"), pdf(&pages, false)).unwrap();
    kb.engine().sync_all().unwrap();
    let status = kb.engine().status();
    assert_eq!(status.skipped_total, 0, "{:?}", status.skipped);
    let by_format: Vec<(&str, u64)> =
        status.documents_by_format.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(by_format, [("code", 1), ("html", 1), ("markdown", 1), ("pdf", 1)]);

    // The PDF: the hit names its page, and reading that section gives that page.
    let hits = kb
        .engine()
        .search(&SearchQuery { text: "quokka clause".into(), limit: 5, ..SearchQuery::default() })
        .unwrap();
    assert_eq!(hits[0].key, "docs/lifecycle.pdf");
    assert_eq!((hits[0].section.as_str(), hits[0].anchor.as_str()), ("Page 2", "page=2"));
    assert!(hits[0].snippet.contains("**quokka**"), "{}", hits[0].snippet);
    let page = kb.engine().read("kb://docs/lifecycle.pdf", Some("page=2")).unwrap();
    assert_eq!(page.mime_type, "text/markdown");
    assert!(page.text.starts_with("# Page 2\n\n"), "{}", page.text);
    assert!(page.text.contains("quokka") && !page.text.contains("# Page 3"), "{}", page.text);
    let whole = kb.engine().read("lifecycle.pdf", None).unwrap();
    assert_eq!(whole.sections.len(), 3);
    assert!(whole.text.contains(&pages[0][0]), "page 1's first line read back");

    // The page: its headings are sections; navigation, scripts and footer are not searchable.
    let hits = kb
        .engine()
        .search(&SearchQuery {
            text: "initialization phase".into(),
            limit: 5,
            ..SearchQuery::default()
        })
        .unwrap();
    assert!(hits.iter().any(|h| h.key == "docs/site/lifecycle.html"), "{hits:?}");
    let html = kb.engine().read("site/lifecycle.html", None).unwrap();
    assert_eq!(html.title, "Lifecycle page");
    assert!(
        html.sections.iter().any(|s| s.heading == "Lifecycle Phases" && s.level == 2),
        "{:?}",
        html.sections
    );
    for gone in ["breadcrumbwombat", "footerwombat", "trackingPixel"] {
        assert!(kb.find(gone).is_empty(), "{gone} was indexed");
    }

    // The code: a function is a section, named and with its line range.
    let hits = kb
        .engine()
        .search(&SearchQuery { text: "invoice_total".into(), limit: 5, ..SearchQuery::default() })
        .unwrap();
    assert_eq!(hits[0].key, "docs/src/billing.rs");
    assert_eq!((hits[0].section.as_str(), hits[0].anchor.as_str()), ("fn invoice_total", "L3-L7"));
    assert_eq!(hits[0].line, 3);
    let code = kb.engine().read("src/billing.rs", Some("L3-L7")).unwrap();
    assert_eq!(code.mime_type, "text/plain");
    assert!(code.text.starts_with("/// Totals an invoice.\npub fn invoice_total"), "{}", code.text);
    assert_eq!(kb.find("zebrafish"), vec!["docs/guide.md"]);
}

#[test]
fn bad_pdfs_and_huge_files_are_skipped_with_their_reason_and_the_rest_served() {
    let kb = Kb::with(&[("good.md", "# Good\n\nthe zebrafish swims\n")]);
    let docs = kb.docs();
    let good = pdf(&page_lines(2), false);
    std::fs::write(docs.join("truncated.pdf"), &good[..good.len() / 3]).unwrap();
    std::fs::write(docs.join("garbage.pdf"), b"%PDF-1.7\n\x00\x01 not objects at all \xff\xfe")
        .unwrap();
    std::fs::write(docs.join("not-a-pdf.pdf"), b"GIF89a pretending").unwrap();
    std::fs::write(docs.join("locked.pdf"), pdf(&page_lines(1), true)).unwrap();
    std::fs::write(docs.join("scan.pdf"), scanned_pdf()).unwrap();
    // Sparse files over the 8 MiB limit, without writing 9 MiB.
    File::create(docs.join("huge.html")).unwrap().set_len(9 * 1024 * 1024).unwrap();
    File::create(docs.join("huge.pdf")).unwrap().set_len(9 * 1024 * 1024).unwrap();
    // A big page under the limit is read in full.
    let mut big = String::from("<html><body><h1>Big</h1>");
    for i in 0..40_000 {
        big.push_str(&format!("<div><p>row {i} of the table</p></div>"));
    }
    // Its text past 256 KiB is cut, as a section's always is; its last section is its own.
    big.push_str("<h2>Last</h2><p>the last axolotl</p></body></html>");
    write(&docs.join("big.html"), &big);
    // A page nested deeper than any browser builds (html5ever's work would grow with the
    // square of the depth).
    write(&docs.join("deep.html"), &("<div>".repeat(200_000) + "nested wombat"));
    write(&docs.join("app/package.json"), "{}");
    write(&docs.join("app/index.js"), "export function start() { return 'okapi'; }\n");
    write(&docs.join("app/node_modules/dep/index.js"), "function vendored() { 'okapi' }\n");
    write(&docs.join("app/dist/bundle.js"), "function bundled() { 'okapi' }\n");

    kb.engine().sync_all().unwrap();
    let status = kb.engine().status();
    assert_eq!(status.state, "ready");
    let reason = |name: &str| -> String {
        status
            .skipped
            .iter()
            .find(|s| s.path == format!("docs/{name}"))
            .map(|s| s.reason.clone())
            .unwrap_or_else(|| panic!("{name} not among the skipped: {:?}", status.skipped))
    };
    assert!(
        reason("truncated.pdf").starts_with("could not read this PDF: "),
        "{}",
        reason("truncated.pdf")
    );
    assert!(
        reason("garbage.pdf").starts_with("could not read this PDF: "),
        "{}",
        reason("garbage.pdf")
    );
    assert_eq!(reason("not-a-pdf.pdf"), "could not read this PDF: it has no PDF header");
    assert_eq!(reason("locked.pdf"), "encrypted (a PDF that needs a password)");
    assert_eq!(reason("scan.pdf"), "scanned (no text layer): a PDF of images");
    assert!(reason("huge.html").starts_with("too large (9437184 bytes"), "{}", reason("huge.html"));
    assert!(reason("huge.pdf").starts_with("too large (9437184 bytes"), "{}", reason("huge.pdf"));
    assert_eq!(reason("deep.html"), "elements nested too deeply (over 512 levels)");
    assert_eq!(reason("app/node_modules"), "a folder of generated or vendored files");
    assert_eq!(reason("app/dist"), "a folder of generated or vendored files");
    assert_eq!(status.skipped_total, 10, "{:?}", status.skipped);
    let by_format: Vec<(&str, u64)> =
        status.documents_by_format.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(by_format, [("code", 1), ("html", 1), ("markdown", 1)]);
    assert_eq!(kb.find("okapi"), vec!["docs/app/index.js"]);
    assert_eq!(kb.find("axolotl"), vec!["docs/big.html"]);
    assert_eq!(kb.find("zebrafish"), vec!["docs/good.md"]);
    // Reading a skipped file is an error that says why, not a crash.
    let err = kb.engine().read("locked.pdf", None).unwrap_err().to_string();
    assert!(err.contains("encrypted"), "{err}");
}

#[test]
fn a_pdf_or_page_dropped_into_a_watched_folder_becomes_searchable_and_goes_with_it() {
    let kb = Kb::with(&[("alpha.md", "# Alpha\n\nzebrafish\n")]);
    kb.engine().sync_all().unwrap();
    let _watch = kb.engine().watch().unwrap();
    let docs = kb.docs();
    let mut pages = page_lines(2);
    pages[0].push("A capybara appears in the PDF.".into());
    std::fs::write(docs.join("dropped.pdf"), pdf(&pages, false)).unwrap();
    write(
        &docs.join("pages/dropped.html"),
        "<title>Dropped</title><h1>Dropped</h1><p>an okapi page</p>",
    );
    assert!(
        wait_until(WAIT, || kb.find("capybara") == vec!["docs/dropped.pdf"]
            && kb.find("okapi") == vec!["docs/pages/dropped.html"]),
        "the dropped PDF and page were not indexed: {:?} {:?}",
        kb.find("capybara"),
        kb.find("okapi")
    );
    // A bad PDF dropped in is skipped, and the rest keeps being served.
    std::fs::write(docs.join("broken.pdf"), b"%PDF-1.4\n1 0 obj << /Type /Catalog").unwrap();
    assert!(
        wait_until(WAIT, || kb
            .engine()
            .status()
            .skipped
            .iter()
            .any(|s| s.path == "docs/broken.pdf")),
        "the broken PDF was not reported"
    );
    // Vendored code dropped in is not indexed.
    write(&docs.join("node_modules/x/index.js"), "function vendoredCapybara() {}\n");
    std::fs::remove_file(docs.join("dropped.pdf")).unwrap();
    std::fs::remove_dir_all(docs.join("pages")).unwrap();
    assert!(
        wait_until(WAIT, || kb.find("capybara").is_empty() && kb.find("okapi").is_empty()),
        "removal not seen"
    );
    // A bad file removed is no longer reported.
    std::fs::remove_file(docs.join("broken.pdf")).unwrap();
    assert!(
        wait_until(WAIT, || kb.engine().status().skipped.is_empty()),
        "the removed PDF is still reported: {:?}",
        kb.engine().status().skipped
    );
    assert!(kb.find("vendoredcapybara").is_empty());
    assert_eq!(kb.find("zebrafish"), vec!["docs/alpha.md"]);
}
