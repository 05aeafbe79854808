//! PDF: the text layer read with `lopdf`, one section per page (`Page N`, anchor `page=N`, the
//! way a PDF viewer's `#page=N` names it). A PDF that needs a password is skipped as encrypted;
//! one whose pages have no text at all as scanned. Reading runs on a thread of its own within a
//! time budget and behind `catch_unwind`, so a malformed file can neither hang the indexer nor
//! panic the server: it is skipped with "could not read this PDF: …" (or "took longer than …").

use std::collections::BTreeMap;

use lopdf::{Encoding, Object, ObjectId};

use super::{BUDGET, Document, Lines, MAX_SECTION_BYTES, Section, Skip, bounded, within};
/// Pages past this many are not read.
const MAX_PAGES: usize = 5000;

/// Reads a PDF's bytes: the document, and its text as read back (`# Page N` before each page's).
pub(super) fn read(bytes: Vec<u8>) -> Result<(Document, String), Skip> {
    within(BUDGET, move || extract(&bytes))
}

fn extract(bytes: &[u8]) -> Result<(Document, String), Skip> {
    let head = &bytes[..bytes.len().min(1024)];
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return Err(Skip::BadPdf("it has no PDF header".into()));
    }
    let mut pdf = match lopdf::Document::load_mem(bytes) {
        Ok(pdf) => pdf,
        Err(_) if mentions_encrypt(bytes) => return Err(Skip::Encrypted),
        Err(e) => return Err(Skip::BadPdf(e.to_string())),
    };
    if pdf.is_encrypted() {
        // Many PDFs are encrypted only against editing, with an empty password to read them.
        if pdf.decrypt("").is_err() {
            return Err(Skip::Encrypted);
        }
    } else if pdf.trailer.get(b"Encrypt").is_ok() {
        return Err(Skip::Encrypted);
    }
    let pages = pdf.get_pages();
    if pages.is_empty() {
        return Err(Skip::BadPdf("it has no pages".into()));
    }
    let mut text = String::new();
    let mut sections = Vec::new();
    for (number, page) in pages.iter().take(MAX_PAGES) {
        let words = tidy(&page_text(&pdf, *page));
        if words.is_empty() {
            continue;
        }
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        let start = text.len();
        let heading = format!("Page {number}");
        text.push_str("# ");
        text.push_str(&heading);
        text.push_str("\n\n");
        let words = bounded(words);
        text.push_str(&words);
        sections.push(Section {
            heading,
            anchor: format!("page={number}"),
            level: 1,
            line: 0,
            start,
            text: words,
        });
    }
    if sections.is_empty() {
        return Err(Skip::NoTextLayer);
    }
    text.push('\n');
    let lines = Lines::of(&text);
    for section in &mut sections {
        section.line = lines.line(section.start);
    }
    let title = info_title(&pdf).unwrap_or_default();
    Ok((Document { title, description: None, tags: Vec::new(), sections }, text))
}

/// An encryption dictionary named in the trailer, for files that do not load without it.
fn mentions_encrypt(bytes: &[u8]) -> bool {
    bytes.windows(8).any(|w| w == b"/Encrypt")
}

/// The title in the document information dictionary, when it has one.
fn info_title(pdf: &lopdf::Document) -> Option<String> {
    let info = match pdf.trailer.get(b"Info").ok()? {
        Object::Reference(id) => pdf.get_dictionary(*id).ok()?,
        Object::Dictionary(d) => d,
        _ => return None,
    };
    let title = lopdf::decode_text_string(info.get(b"Title").ok()?).ok()?;
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    (!title.is_empty()).then_some(title)
}

/// The text shown on one page, in content-stream order: a line per text line, words as the
/// fonts encode them. A page that does not decode gives what was read before the error.
fn page_text(pdf: &lopdf::Document, page: ObjectId) -> String {
    let encodings: BTreeMap<Vec<u8>, Encoding<'_>> = pdf
        .get_page_fonts(page)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(name, font)| font.get_font_encoding(pdf).ok().map(|e| (name, e)))
        .collect();
    let Ok(content) = pdf.get_and_decode_page_content(page) else { return String::new() };
    let mut text = String::new();
    let mut font: Option<&Encoding<'_>> = None;
    for op in &content.operations {
        if text.len() >= MAX_SECTION_BYTES {
            break;
        }
        match op.operator.as_str() {
            "Tf" => {
                font = op
                    .operands
                    .first()
                    .and_then(|o| o.as_name().ok())
                    .and_then(|n| encodings.get(n));
            }
            "Tj" => show(&mut text, font, &op.operands),
            "'" | "\"" => {
                line_break(&mut text);
                show(&mut text, font, &op.operands);
            }
            "TJ" => {
                for operand in &op.operands {
                    if let Object::Array(items) = operand {
                        for item in items {
                            match item {
                                Object::String(..) => {
                                    show(&mut text, font, std::slice::from_ref(item))
                                }
                                // A large negative adjustment is a gap between words.
                                Object::Integer(n) if *n < -200 => space(&mut text),
                                Object::Real(n) if *n < -200.0 => space(&mut text),
                                _ => {}
                            }
                        }
                    }
                }
            }
            "Td" | "TD" => {
                let dy = op.operands.get(1).and_then(number).unwrap_or(0.0);
                if dy.abs() > 0.01 { line_break(&mut text) } else { space(&mut text) }
            }
            "T*" | "ET" => line_break(&mut text),
            "Tm" => line_break(&mut text),
            _ => {}
        }
    }
    text
}

fn number(o: &Object) -> Option<f32> {
    match o {
        Object::Integer(i) => Some(*i as f32),
        Object::Real(r) => Some(*r),
        _ => None,
    }
}

/// The strings among `operands`, decoded with the current font's encoding (Latin-1 without one).
fn show(text: &mut String, font: Option<&Encoding<'_>>, operands: &[Object]) {
    for operand in operands {
        let Object::String(bytes, _) = operand else { continue };
        let decoded = match font {
            Some(encoding) => encoding.bytes_to_string(bytes).unwrap_or_default(),
            None => bytes.iter().map(|b| char::from(*b)).collect(),
        };
        text.extend(decoded.chars().filter(|c| !c.is_control() || *c == '\n'));
    }
}

fn space(text: &mut String) {
    if !text.is_empty() && !text.ends_with([' ', '\n']) {
        text.push(' ');
    }
}

fn line_break(text: &mut String) {
    while text.ends_with(' ') {
        text.pop();
    }
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
}

/// Lines with single spaces, no blank lines.
fn tidy(text: &str) -> String {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_a_pdf_at_all() {
        assert_eq!(
            read(b"hello".to_vec()).map(|_| ()),
            Err(Skip::BadPdf("it has no PDF header".into()))
        );
        assert!(matches!(read(b"%PDF-1.4\n1 0 obj <<".to_vec()), Err(Skip::BadPdf(_))));
    }
}
