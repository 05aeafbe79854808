//! A receipt is the one splice an apply made: the text before and after it, with a little context.
//! Removing an entry whose receipt still matches the file puts back exactly the bytes that were
//! there (a container or file we created goes too), where a structural removal would leave
//! `"mcpServers": {}` or reflowed whitespace behind. A receipt is only used when its result means
//! the same as the structural removal; otherwise the structural removal stands.

use serde::{Deserialize, Serialize};

/// Context kept each side of a splice, to find it again when the same text occurs twice.
const CONTEXT: usize = 48;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The bytes before the apply at the splice.
    pub before: String,
    /// The bytes the apply put there.
    pub after: String,
    /// Up to `CONTEXT` bytes before and after the splice, at apply time.
    pub lead: String,
    pub trail: String,
}

impl Receipt {
    /// The splice that turns `without` (the file without the entry) into `with`.
    pub fn between(without: &str, with: &str) -> Receipt {
        let (a, b) = (without.as_bytes(), with.as_bytes());
        let mut prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
        while !without.is_char_boundary(prefix) || !with.is_char_boundary(prefix) {
            prefix -= 1;
        }
        let max_suffix = a.len().min(b.len()) - prefix;
        let mut suffix =
            a.iter().rev().zip(b.iter().rev()).take(max_suffix).take_while(|(x, y)| x == y).count();
        while !without.is_char_boundary(a.len() - suffix)
            || !with.is_char_boundary(b.len() - suffix)
        {
            suffix -= 1;
        }
        let lead_start = floor_boundary(with, prefix.saturating_sub(CONTEXT));
        let trail_end = ceil_boundary(with, (b.len() - suffix + CONTEXT).min(b.len()));
        Receipt {
            before: without[prefix..a.len() - suffix].to_string(),
            after: with[prefix..b.len() - suffix].to_string(),
            lead: with[lead_start..prefix].to_string(),
            trail: with[b.len() - suffix..trail_end].to_string(),
        }
    }

    /// `text` with the splice undone, when the spliced text can be found exactly once (first
    /// with its context, then without).
    pub fn undo(&self, text: &str) -> Option<String> {
        let with_context = format!("{}{}{}", self.lead, self.after, self.trail);
        if let Some(at) = unique(text, &with_context) {
            let start = at + self.lead.len();
            return Some(splice(text, start, self.after.len(), &self.before));
        }
        if self.after.is_empty() {
            return None;
        }
        unique(text, &self.after).map(|at| splice(text, at, self.after.len(), &self.before))
    }
}

fn unique(text: &str, needle: &str) -> Option<usize> {
    let mut found = text.match_indices(needle).map(|(i, _)| i);
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

fn splice(text: &str, at: usize, len: usize, with: &str) -> String {
    format!("{}{}{}", &text[..at], with, &text[at + len..])
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undoes_an_insertion_exactly_even_after_other_edits() {
        let without = "{\n  \"a\": 1\n}\n";
        let with = "{\n  \"a\": 1,\n  \"sb\": {\"command\": \"x\"}\n}\n";
        let r = Receipt::between(without, with);
        assert_eq!(r.before, "");
        assert_eq!(r.after, ",\n  \"sb\": {\"command\": \"x\"}");
        assert_eq!(r.undo(with).as_deref(), Some(without));
        // An edit elsewhere in the file does not stop it.
        let edited = with.replace("\"a\": 1", "\"a\": 2");
        assert_eq!(r.undo(&edited).as_deref(), Some(without.replace('1', "2").as_str()));
        // Gone entirely: nothing to undo.
        assert_eq!(r.undo(without), None);
    }

    #[test]
    fn keeps_to_character_boundaries() {
        let r = Receipt::between("é", "éé");
        assert_eq!(r.undo("éé").as_deref(), Some("é"));
        let r = Receipt::between("日本", "日x本");
        assert_eq!((r.before.as_str(), r.after.as_str()), ("", "x"));
    }
}
