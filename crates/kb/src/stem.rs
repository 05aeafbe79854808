//! English stemming, remembered: the same Snowball stemmer tantivy's `Stemmer` filter runs, with
//! each word's stem kept after its first time. A corpus repeats its words, and stemming was a
//! quarter of indexing's time; a lookup costs a fraction of a stem.
//!
//! The cache belongs to one analyzer instance (an index writer holds one per field and thread,
//! dropped with the writer; a search's is fresh), and is emptied when it reaches
//! [`CACHE_LIMIT`] words, so its memory stays bounded whatever the corpus.

use rust_stemmers::{Algorithm, Stemmer};
use rustc_hash::FxHashMap;
use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// Words remembered per analyzer before the cache starts over (a few MiB at most).
pub const CACHE_LIMIT: usize = 1 << 15;

/// The filter: tokens are expected lowercased, as for tantivy's `Stemmer`.
#[derive(Clone, Copy, Default)]
pub struct CachedStemmer;

impl TokenFilter for CachedStemmer {
    type Tokenizer<T: Tokenizer> = CachedStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, inner: T) -> CachedStemmerFilter<T> {
        CachedStemmerFilter { inner, stems: FxHashMap::default() }
    }
}

pub struct CachedStemmerFilter<T> {
    inner: T,
    stems: FxHashMap<String, String>,
}

/// A clone starts with an empty cache (tantivy clones an analyzer per field and writer thread).
impl<T: Clone> Clone for CachedStemmerFilter<T> {
    fn clone(&self) -> Self {
        CachedStemmerFilter { inner: self.inner.clone(), stems: FxHashMap::default() }
    }
}

impl<T: Tokenizer> Tokenizer for CachedStemmerFilter<T> {
    type TokenStream<'a> = CachedStemmerStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        CachedStemmerStream {
            tail: self.inner.token_stream(text),
            stemmer: Stemmer::create(Algorithm::English),
            stems: &mut self.stems,
        }
    }
}

pub struct CachedStemmerStream<'a, S> {
    tail: S,
    stemmer: Stemmer,
    stems: &'a mut FxHashMap<String, String>,
}

impl<S: TokenStream> TokenStream for CachedStemmerStream<'_, S> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        if let Some(stem) = self.stems.get(&token.text) {
            if *stem != token.text {
                token.text.clear();
                token.text.push_str(stem);
            }
            return true;
        }
        let stem = self.stemmer.stem(&token.text).into_owned();
        if self.stems.len() >= CACHE_LIMIT {
            self.stems.clear();
        }
        let word = std::mem::replace(&mut token.text, stem.clone());
        self.stems.insert(word, stem);
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use tantivy::tokenizer::{
        Language, LowerCaser, SimpleTokenizer, Stemmer as TantivyStemmer, TextAnalyzer,
    };

    use super::*;

    fn stems(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    #[test]
    fn stems_as_tantivys_stemmer_does_hit_or_miss() {
        let text = "Servers serving served requests; the server's tools listed, listing lists. \
                    Running runners ran. Servers serving served requests again and again.";
        let mut ours = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .filter(CachedStemmer)
            .build();
        let mut theirs = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .filter(TantivyStemmer::new(Language::English))
            .build();
        let expected = stems(&mut theirs, text);
        assert!(expected.contains(&"server".to_string()) && expected.contains(&"list".to_string()));
        // Twice through the same analyzer: the second time every word is a cache hit.
        assert_eq!(stems(&mut ours, text), expected);
        assert_eq!(stems(&mut ours, text), expected);
    }

    #[test]
    fn the_cache_starts_over_at_its_limit_and_still_stems() {
        let mut filter = CachedStemmer.transform(SimpleTokenizer::default());
        let words: Vec<String> = (0..CACHE_LIMIT + 10).map(|i| format!("w{i}ings")).collect();
        let text = words.join(" ");
        let mut got = Vec::new();
        let mut stream = filter.token_stream(&text);
        while stream.advance() {
            got.push(stream.token().text.clone());
        }
        assert_eq!(got.len(), words.len());
        let plain = Stemmer::create(Algorithm::English);
        for (word, stem) in words.iter().zip(&got) {
            assert_eq!(stem, &plain.stem(word).into_owned());
        }
        assert!(
            !filter.stems.is_empty() && filter.stems.len() <= CACHE_LIMIT,
            "{}",
            filter.stems.len()
        );
        assert!(filter.clone().stems.is_empty(), "a clone starts empty");
    }
}
