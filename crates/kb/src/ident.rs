//! Words as the index holds them: identifiers (`tools/list`, `listChanged`, `snake_case`,
//! `a.b.c`, `Mcp-Session-Id`, `_meta`) both as the whole token and as each of their parts.
//!
//! The whole identifier is emitted at the position of its first part, and the parts at
//! consecutive positions, so a phrase over the parts still matches and the whole matches only
//! where the identifier is written as such. A question is read with the same tokenizer, so
//! `tools/list` finds pages that say `tools/list` before pages that say "tools" and "list".

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Characters that join the parts of an identifier when letters or digits stand on both sides.
fn joins(c: char) -> bool {
    matches!(c, '/' | '_' | '.' | '-')
}

/// The parts of an identifier as byte ranges of `word`: split at joiners and at camelCase humps
/// (`listChanged` -> `list`, `Changed`; `HTTPServer` -> `HTTP`, `Server`).
pub fn part_ranges(word: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    push_part_ranges(word, &mut out);
    out
}

/// [`part_ranges`] into `out` (cleared first), without allocating once `out` has room.
fn push_part_ranges(word: &str, out: &mut Vec<std::ops::Range<usize>>) {
    out.clear();
    let mut start: Option<usize> = None;
    let mut previous: Option<char> = None;
    let mut chars = word.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        if !c.is_alphanumeric() {
            if let Some(s) = start.take() {
                out.push(s..at);
            }
        } else if let Some(s) = start {
            // Inside a part, `previous` is its last character (a letter or digit).
            let previous = previous.unwrap_or(c);
            let next_lower = next.is_some_and(char::is_lowercase);
            let hump = c.is_uppercase()
                && (previous.is_lowercase()
                    || previous.is_ascii_digit()
                    || (previous.is_uppercase() && next_lower));
            if hump {
                out.push(s..at);
                start = Some(at);
            }
        } else {
            start = Some(at);
        }
        previous = Some(c);
    }
    if let Some(s) = start {
        out.push(s..word.len());
    }
}

/// The parts of an identifier, as text.
pub fn parts(word: &str) -> Vec<&str> {
    part_ranges(word).into_iter().map(|r| &word[r]).collect()
}

/// Splits text into words like tantivy's `SimpleTokenizer` (runs of letters and digits), except
/// that an identifier is kept whole as well (above), or only whole.
#[derive(Clone, Default)]
pub struct IdentifierTokenizer {
    emit: Emit,
    tokens: TokenBuf,
    /// Reused between texts: the text's characters, and one word's part ranges.
    chars: Vec<(usize, char)>,
    ranges: Vec<std::ops::Range<usize>>,
}

/// What [`IdentifierTokenizer`] emits.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub enum Emit {
    /// Words, and each identifier whole and in parts (questions are read so).
    #[default]
    Both,
    /// Words, identifiers in parts only (the title, heading and body fields).
    Parts,
    /// Only identifiers, whole (the `ident` field).
    Wholes,
}

impl IdentifierTokenizer {
    pub fn new(emit: Emit) -> IdentifierTokenizer {
        IdentifierTokenizer { emit, ..IdentifierTokenizer::default() }
    }
}

pub struct IdentifierTokenStream<'a> {
    tokens: &'a mut [Token],
    next: usize,
}

/// The tokens of the text being read: the first `used`. The rest are kept from earlier texts so
/// that their strings' memory is written over rather than allocated again (up to
/// [`KEPT_TOKENS`]).
#[derive(Clone, Default)]
struct TokenBuf {
    tokens: Vec<Token>,
    used: usize,
}

/// Tokens kept between texts, at most: a long text's are let go.
const KEPT_TOKENS: usize = 1 << 14;

impl TokenBuf {
    fn put(
        &mut self,
        offset_from: usize,
        offset_to: usize,
        position: usize,
        text: &str,
        len: usize,
    ) {
        if let Some(token) = self.tokens.get_mut(self.used) {
            token.offset_from = offset_from;
            token.offset_to = offset_to;
            token.position = position;
            token.position_length = len;
            token.text.clear();
            token.text.push_str(text);
        } else {
            self.tokens.push(Token {
                offset_from,
                offset_to,
                position,
                text: text.to_owned(),
                position_length: len,
            });
        }
        self.used += 1;
    }
}

impl Tokenizer for IdentifierTokenizer {
    type TokenStream<'a> = IdentifierTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> IdentifierTokenStream<'a> {
        if self.tokens.tokens.len() > KEPT_TOKENS {
            self.tokens.tokens = Vec::new();
        }
        self.tokens.used = 0;
        self.chars.clear();
        self.chars.extend(text.char_indices());
        tokenize(text, &self.chars, self.emit, &mut self.ranges, &mut self.tokens);
        if self.chars.capacity() > 1 << 16 {
            // A long text's characters (16 bytes each) are not kept for the next one.
            self.chars = Vec::new();
        }
        let used = self.tokens.used;
        IdentifierTokenStream { tokens: &mut self.tokens.tokens[..used], next: 0 }
    }
}

impl TokenStream for IdentifierTokenStream<'_> {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next.saturating_sub(1).min(self.tokens.len().saturating_sub(1))]
    }

    fn token_mut(&mut self) -> &mut Token {
        let at = self.next.saturating_sub(1).min(self.tokens.len().saturating_sub(1));
        &mut self.tokens[at]
    }
}

/// `chars` are `text`'s `char_indices`; `ranges` is scratch space.
fn tokenize(
    text: &str,
    chars: &[(usize, char)],
    emit: Emit,
    ranges: &mut Vec<std::ops::Range<usize>>,
    out: &mut TokenBuf,
) {
    let alnum = |i: usize| chars.get(i).is_some_and(|(_, c)| c.is_alphanumeric());
    let mut position = 0;
    let mut i = 0;
    while i < chars.len() {
        // A word starts at a letter or digit, or at `_` right before one (`_meta`).
        let starts = alnum(i) || (chars[i].1 == '_' && alnum(i + 1));
        if !starts {
            i += 1;
            continue;
        }
        let begin = i;
        let mut end = i + 1;
        while end < chars.len() {
            if alnum(end) || (joins(chars[end].1) && alnum(end - 1) && alnum(end + 1)) {
                end += 1;
            } else {
                break;
            }
        }
        let from = chars[begin].0;
        let to = chars.get(end).map_or(text.len(), |(at, _)| *at);
        let word = &text[from..to];
        push_part_ranges(word, ranges);
        if (ranges.len() > 1 || word.starts_with('_')) && emit != Emit::Parts {
            out.put(from, to, position, word, ranges.len().max(1));
        }
        for range in ranges.iter() {
            if emit == Emit::Wholes {
                position += 1;
                continue;
            }
            out.put(from + range.start, from + range.end, position, &word[range.clone()], 1);
            position += 1;
        }
        i = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<(usize, String)> {
        tokens_of(text, Emit::Both)
    }

    fn tokens_of(text: &str, emit: Emit) -> Vec<(usize, String)> {
        let mut tokenizer = IdentifierTokenizer::new(emit);
        let mut stream = tokenizer.token_stream(text);
        let mut out = Vec::new();
        while let Some(token) = stream.next() {
            out.push((token.position, token.text.clone()));
        }
        out
    }

    /// One tokenizer reads text after text, reusing its tokens' memory: each text gives what a
    /// fresh tokenizer gives, however long the one before (past the tokens it keeps, too).
    #[test]
    fn a_tokenizer_reused_gives_each_text_its_own_tokens() {
        let long = "tools/list listChanged snake_case ".repeat(KEPT_TOKENS / 4);
        let texts = [long.as_str(), "a.b.c Mcp-Session-Id", "", "_meta HTTPServer", &long, "x"];
        for emit in [Emit::Both, Emit::Parts, Emit::Wholes] {
            let mut reused = IdentifierTokenizer::new(emit);
            for text in texts {
                let mut stream = reused.token_stream(text);
                let mut got = Vec::new();
                while let Some(token) = stream.next() {
                    got.push((token.position, token.text.clone()));
                }
                assert_eq!(got, tokens_of(text, emit), "{emit:?} after reuse: {:.40}", text);
            }
        }
    }

    #[test]
    fn identifiers_split_into_their_parts() {
        assert_eq!(parts("notifications/cancelled"), ["notifications", "cancelled"]);
        assert_eq!(parts("Mcp-Session-Id"), ["Mcp", "Session", "Id"]);
        assert_eq!(parts("listChanged"), ["list", "Changed"]);
        assert_eq!(parts("HTTPServer"), ["HTTP", "Server"]);
        assert_eq!(parts("snake_case"), ["snake", "case"]);
        assert_eq!(parts("_meta"), ["meta"]);
        assert_eq!(parts("tools"), ["tools"]);
    }

    #[test]
    fn identifiers_are_whole_tokens_and_parts_at_the_same_place() {
        let t = |p: usize, s: &str| (p, s.to_owned());
        assert_eq!(
            tokens("send tools/list, then listChanged."),
            [
                t(0, "send"),
                t(1, "tools/list"),
                t(1, "tools"),
                t(2, "list"),
                t(3, "then"),
                t(4, "listChanged"),
                t(4, "list"),
                t(5, "Changed"),
            ]
        );
        assert_eq!(tokens("_meta keys"), [t(0, "_meta"), t(0, "meta"), t(1, "keys")]);
        // Punctuation that does not join letters is not part of a word.
        assert_eq!(tokens("a - b... (c)"), [t(0, "a"), t(1, "b"), t(2, "c")]);
        assert_eq!(tokens("über-straße"), [t(0, "über-straße"), t(0, "über"), t(1, "straße")]);
        assert!(tokens("").is_empty() && tokens(" -_./ ").is_empty());
        let text = "send tools/list, then listChanged.";
        assert_eq!(tokens_of(text, Emit::Wholes), [t(1, "tools/list"), t(4, "listChanged")]);
        assert_eq!(
            tokens_of(text, Emit::Parts),
            [
                t(0, "send"),
                t(1, "tools"),
                t(2, "list"),
                t(3, "then"),
                t(4, "list"),
                t(5, "Changed")
            ]
        );
    }
}
