//! Semantic retrieval's extension point: an [`Embedder`] turns texts into vectors, [`Vectors`]
//! keeps one per section beside the index, and a search fuses the sections nearest to the
//! question with the lexical ranking (reciprocal rank fusion, in `index`).
//!
//! Off unless an embedder is configured (`Engine::open_with`); nothing is downloaded.
//! [`HashEmbedder`] is the deterministic provider tests use: hashed character trigrams, no
//! model, no network. A real provider (a local model runtime, an embeddings endpoint the user
//! configures) implements the same trait; ARCHITECTURE.md says how it plugs in.

use std::{
    collections::BTreeMap,
    io::Write,
    path::{Path, PathBuf},
};

use crate::error::{Error, Result};

/// Turns texts into vectors of `dimensions()` numbers, the same text always into the same
/// vector. Called in batches: all sections of a document at index time, the question at search
/// time.
pub trait Embedder: Send + Sync {
    /// Names the model and its settings. Vectors made under another id are never compared with
    /// this one's: the index's vectors are made again when it changes.
    fn id(&self) -> &str;
    fn dimensions(&self) -> usize;
    /// One vector per text, in order.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>>;
}

/// Hashed character trigrams of each word (`#wo`, `wor`, `ord`, `rd#`) and the words
/// themselves, signed into `dimensions` buckets and scaled to length 1. Deterministic, about a
/// microsecond per word; a "poor man's semantic" signal that matches words sharing a stem or a
/// spelling, not meanings.
#[derive(Debug, Clone)]
pub struct HashEmbedder {
    dimensions: usize,
    id: String,
}

impl HashEmbedder {
    pub fn new(dimensions: usize) -> HashEmbedder {
        let dimensions = dimensions.max(1);
        HashEmbedder { dimensions, id: format!("hashed-trigrams-v1-{dimensions}") }
    }

    fn add(&self, vector: &mut [f32], feature: &[u8], weight: f32) {
        let hash = fnv1a(feature);
        let bucket = (hash % self.dimensions as u64) as usize;
        let sign = if hash >> 63 == 0 { 1.0 } else { -1.0 };
        vector[bucket] += sign * weight;
    }

    fn one(&self, text: &str) -> Vec<f32> {
        let mut vector = vec![0.0; self.dimensions];
        let lower = text.to_lowercase();
        for word in lower.split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() > 2) {
            if STOP.contains(&word) {
                continue;
            }
            self.add(&mut vector, word.as_bytes(), 1.0);
            let padded: Vec<char> = format!("#{word}#").chars().collect();
            for trigram in padded.windows(3) {
                let trigram: String = trigram.iter().collect();
                self.add(&mut vector, trigram.as_bytes(), 0.5);
            }
        }
        normalize(&mut vector);
        vector
    }
}

/// Words too common to say what a text is about.
const STOP: &[&str] = &[
    "the", "and", "for", "that", "this", "with", "are", "from", "you", "your", "can", "not", "has",
    "have", "was", "what", "when", "which", "how", "does", "any", "all", "its", "but", "into",
];

impl Embedder for HashEmbedder {
    fn id(&self) -> &str {
        &self.id
    }

    fn dimensions(&self) -> usize {
        self.dimensions
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        Ok(texts.iter().map(|t| self.one(t)).collect())
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

fn normalize(vector: &mut [f32]) {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
}

/// A content hash of a section's text: a vector is made again only when its text changed.
pub fn text_hash(text: &str) -> u64 {
    fnv1a(text.as_bytes())
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// One section's vector: where it starts (its 1-based line), the hash of its text, the vector.
#[derive(Debug, Clone, PartialEq)]
pub struct SectionVector {
    pub line: u64,
    pub hash: u64,
    pub vector: Vec<f32>,
}

const MAGIC: &[u8] = b"switchboard-kb vectors 1\n";

/// The vectors of every section, by document key, made by one embedder; saved beside the index
/// after each commit.
#[derive(Debug)]
pub struct Vectors {
    path: PathBuf,
    embedder: String,
    dimensions: usize,
    documents: BTreeMap<String, Vec<SectionVector>>,
}

impl Vectors {
    /// The saved vectors if they were made by `embedder`; else none (and `false`: every
    /// document's vectors must be made again).
    pub fn load(path: &Path, embedder: &dyn Embedder) -> (Vectors, bool) {
        let mut vectors = Vectors {
            path: path.to_path_buf(),
            embedder: embedder.id().to_owned(),
            dimensions: embedder.dimensions(),
            documents: BTreeMap::new(),
        };
        let parsed = std::fs::read(path).ok().and_then(|bytes| parse(&bytes));
        match parsed {
            Some((id, dimensions, documents))
                if id == vectors.embedder && dimensions == vectors.dimensions =>
            {
                vectors.documents = documents;
                (vectors, true)
            }
            _ => (vectors, false),
        }
    }

    pub fn embedder(&self) -> &str {
        &self.embedder
    }

    pub fn documents(&self) -> usize {
        self.documents.len()
    }

    pub fn get(&self, key: &str) -> Option<&[SectionVector]> {
        self.documents.get(key).map(Vec::as_slice)
    }

    pub fn set(&mut self, key: &str, sections: Vec<SectionVector>) {
        self.documents.insert(key.to_owned(), sections);
    }

    pub fn remove(&mut self, key: &str) {
        self.documents.remove(key);
    }

    pub fn clear(&mut self) {
        self.documents.clear();
    }

    /// The `k` sections most similar to `query` (cosine; the vectors have length 1), best
    /// first, as (similarity, key, line). Every section is compared: at tens of thousands of
    /// sections that is a few milliseconds.
    pub fn nearest(&self, query: &[f32], k: usize) -> Vec<(f32, &str, u64)> {
        let mut all: Vec<(f32, &str, u64)> = self
            .documents
            .iter()
            .flat_map(|(key, sections)| {
                sections.iter().map(move |s| (dot(query, &s.vector), key.as_str(), s.line))
            })
            .collect();
        let k = k.min(all.len());
        if k == 0 {
            return Vec::new();
        }
        all.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        all.truncate(k);
        all.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)).then(a.2.cmp(&b.2)));
        all
    }

    /// Temp file in the same directory, fsync, rename.
    pub fn save(&self) -> Result<()> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(MAGIC);
        put_str(&mut bytes, &self.embedder);
        bytes.extend_from_slice(&(self.dimensions as u32).to_le_bytes());
        bytes.extend_from_slice(&(self.documents.len() as u32).to_le_bytes());
        for (key, sections) in &self.documents {
            put_str(&mut bytes, key);
            bytes.extend_from_slice(&(sections.len() as u32).to_le_bytes());
            for s in sections {
                bytes.extend_from_slice(&s.line.to_le_bytes());
                bytes.extend_from_slice(&s.hash.to_le_bytes());
                for x in &s.vector {
                    bytes.extend_from_slice(&x.to_le_bytes());
                }
            }
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
        tmp.write_all(&bytes).map_err(|e| Error::io(tmp.path(), e))?;
        tmp.as_file().sync_all().map_err(|e| Error::io(tmp.path(), e))?;
        tmp.persist(&self.path).map_err(|e| Error::io(&self.path, e.error))?;
        Ok(())
    }
}

fn put_str(bytes: &mut Vec<u8>, s: &str) {
    bytes.extend_from_slice(&(s.len() as u32).to_le_bytes());
    bytes.extend_from_slice(s.as_bytes());
}

type Parsed = (String, usize, BTreeMap<String, Vec<SectionVector>>);

/// Reads a saved file; `None` for anything cut short or malformed.
fn parse(bytes: &[u8]) -> Option<Parsed> {
    let mut reader = Reader { bytes: bytes.strip_prefix(MAGIC)? };
    let id = reader.string()?;
    let dimensions = reader.u32()? as usize;
    let count = reader.u32()?;
    let mut documents = BTreeMap::new();
    for _ in 0..count {
        let key = reader.string()?;
        let n = reader.u32()? as usize;
        // Each section takes at least 16 bytes: a count larger than the rest is corrupt.
        if n.checked_mul(16 + 4 * dimensions)? > reader.bytes.len() {
            return None;
        }
        let mut sections = Vec::with_capacity(n);
        for _ in 0..n {
            let line = reader.u64()?;
            let hash = reader.u64()?;
            let mut vector = Vec::with_capacity(dimensions);
            for _ in 0..dimensions {
                vector.push(f32::from_le_bytes(reader.take()?));
            }
            sections.push(SectionVector { line, hash, vector });
        }
        documents.insert(key, sections);
    }
    reader.bytes.is_empty().then_some((id, dimensions, documents))
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.bytes.split_first_chunk::<N>()?;
        self.bytes = rest;
        Some(*head)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_le_bytes)
    }
    fn string(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        if n > self.bytes.len() {
            return None;
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        String::from_utf8(head.to_vec()).ok()
    }
}

/// Reciprocal rank fusion: each list (best first) gives its `i`-th item `weight / (K + i + 1)`;
/// the items ordered by the sum, ties by first appearance. Scores do not need to be comparable
/// across lists, only ranks.
pub fn fuse(lists: &[(&[String], f32)]) -> Vec<(String, f32)> {
    const K: f32 = 60.0;
    let mut order: Vec<String> = Vec::new();
    let mut scores: std::collections::HashMap<&str, f32> = std::collections::HashMap::new();
    for (list, weight) in lists {
        for (i, key) in list.iter().enumerate() {
            let score = scores.entry(key.as_str()).or_insert_with(|| {
                order.push(key.clone());
                0.0
            });
            *score += weight / (K + i as f32 + 1.0);
        }
    }
    let mut fused: Vec<(String, f32)> = order
        .into_iter()
        .map(|key| {
            let score = scores.get(key.as_str()).copied().unwrap_or(0.0);
            (key, score)
        })
        .collect();
    // Stable: equal scores keep their first appearance's order.
    fused.sort_by(|a, b| b.1.total_cmp(&a.1));
    fused
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_vectors_are_deterministic_unit_length_and_closer_for_shared_words() {
        let embedder = HashEmbedder::new(256);
        let texts = ["cancel a request", "cancelling requests", "sampling from the model", ""];
        let a = embedder.embed(&texts).unwrap_or_default();
        let b = embedder.embed(&texts).unwrap_or_default();
        assert_eq!(a, b);
        assert_eq!(a.len(), 4);
        assert!((dot(&a[0], &a[0]) - 1.0).abs() < 1e-5);
        assert!(dot(&a[0], &a[1]) > dot(&a[0], &a[2]));
        assert!(a[3].iter().all(|x| *x == 0.0), "an empty text is the zero vector");
        assert_eq!(embedder.id(), "hashed-trigrams-v1-256");
    }

    #[test]
    fn vectors_round_trip_and_another_embedder_invalidates_them() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("vectors.bin");
        let embedder = HashEmbedder::new(8);
        let (mut vectors, valid) = Vectors::load(&path, &embedder);
        assert!(!valid, "nothing saved yet");
        let v = embedder.embed(&["alpha beta"]).unwrap_or_default().remove(0);
        vectors.set("docs/a.md", vec![SectionVector { line: 3, hash: 7, vector: v.clone() }]);
        vectors.save().unwrap_or_else(|e| panic!("{e}"));
        let (again, valid) = Vectors::load(&path, &embedder);
        assert!(valid);
        assert_eq!(again.get("docs/a.md"), vectors.get("docs/a.md"));
        assert_eq!(again.nearest(&v, 5), [(dot(&v, &v), "docs/a.md", 3)]);
        let (other, valid) = Vectors::load(&path, &HashEmbedder::new(16));
        assert!(!valid && other.documents() == 0);
        // A file cut short anywhere is read as nothing, never as half.
        let bytes = std::fs::read(&path).unwrap_or_default();
        for cut in 0..bytes.len() {
            assert!(parse(&bytes[..cut]).is_none(), "cut at {cut}");
        }
    }

    #[test]
    fn fusion_rewards_agreement_and_is_deterministic() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let lexical = s(&["a", "b", "c", "d"]);
        let semantic = s(&["c", "e", "a"]);
        let fused = fuse(&[(&lexical, 1.0), (&semantic, 1.0)]);
        let keys: Vec<&str> = fused.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "c", "b", "e", "d"]);
        assert_eq!(fused, fuse(&[(&lexical, 1.0), (&semantic, 1.0)]));
        // With no weight on the vectors, the lexical order stands.
        let lexical_only = fuse(&[(&lexical, 1.0), (&semantic, 0.0)]);
        assert_eq!(
            lexical_only[..4].iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ["a", "b", "c", "d"]
        );
    }
}
