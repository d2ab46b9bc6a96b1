//! Serialized representations of resources, kept by resource state and syntax so a resource read again is not
//! serialized again (issue: serve at the speed of the wire), and the parts query pages are assembled from (a
//! member's selected properties, written once per selection).
//!
//! Entries are kept by the resource's IRI, its ETag (a hash of its canonical triples), the syntax and, for parts,
//! the selection, so a changed resource is never answered from the cache: its ETag changes, and its entries of the
//! previous state are dropped when one of the new state is kept. Memory is bounded by bytes with two generations:
//! when the young one is full it becomes the old one and the previous old one is dropped; a hit in the old one
//! moves the entry back to the young one. So the resources read most stay, at no bookkeeping cost per read.

use std::sync::{Mutex, PoisonError};

use axum::body::Bytes;
use foldhash::HashMap;

use crate::ETag;
use crate::rdf::{FORMATS, RdfFormat};

/// Which body of a resource: its whole representation, or its part of query pages for one selection (the
/// selection's canonical text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind<'a> {
    Whole,
    Part(&'a str),
}

/// A kept body, with the prefixes of the server's table it uses (parts only).
#[derive(Debug, Clone)]
pub(super) struct Kept {
    pub(super) body: Bytes,
    pub(super) prefixes: u64,
}

#[derive(Debug)]
struct Entry {
    etag: Box<str>,
    slot: usize,
    selection: Option<Box<str>>,
    kept: Kept,
}

impl Entry {
    fn is(&self, etag: &str, slot: usize, kind: Kind<'_>) -> bool {
        self.slot == slot
            && &*self.etag == etag
            && match kind {
                Kind::Whole => self.selection.is_none(),
                Kind::Part(selection) => self.selection.as_deref() == Some(selection),
            }
    }

    fn size(&self, subject: &str) -> usize {
        self.kept.body.len() + subject.len() + self.etag.len() + self.selection.as_deref().map_or(0, str::len)
    }
}

/// A bounded cache of serialized representations.
#[derive(Debug)]
pub(super) struct Representations {
    generation_bytes: usize,
    inner: Mutex<Generations>,
}

#[derive(Debug, Default)]
struct Generations {
    /// Subject IRI → its kept bodies.
    young: HashMap<String, Vec<Entry>>,
    young_bytes: usize,
    old: HashMap<String, Vec<Entry>>,
}

impl Representations {
    /// A cache holding at most about `max_bytes` of bodies (0: nothing is kept).
    pub(super) fn new(max_bytes: usize) -> Self {
        Self { generation_bytes: max_bytes / 2, inner: Mutex::default() }
    }

    fn slot(format: RdfFormat) -> Option<usize> {
        FORMATS.iter().position(|f| *f == format)
    }

    /// The body of `subject` at `etag` in `format`, if kept.
    pub(super) fn get(&self, subject: &str, etag: &ETag, format: RdfFormat, kind: Kind<'_>) -> Option<Kept> {
        let slot = Self::slot(format)?;
        let etag = etag.opaque();
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = inner.young.get(subject).and_then(|e| e.iter().find(|e| e.is(etag, slot, kind))) {
            return Some(entry.kept.clone());
        }
        let entries = inner.old.get_mut(subject)?;
        let at = entries.iter().position(|e| e.is(etag, slot, kind))?;
        let entry = entries.swap_remove(at);
        let kept = entry.kept.clone();
        self.insert_locked(&mut inner, subject, entry);
        Some(kept)
    }

    /// Keeps `body` as the representation of `subject` at `etag` in `format`.
    pub(super) fn put(&self, subject: &str, etag: &ETag, format: RdfFormat, kind: Kind<'_>, kept: Kept) {
        let Some(slot) = Self::slot(format) else { return };
        let selection = match kind {
            Kind::Whole => None,
            Kind::Part(selection) => Some(selection.into()),
        };
        let entry = Entry { etag: etag.opaque().into(), slot, selection, kept };
        if entry.size(subject) > self.generation_bytes {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        self.insert_locked(&mut inner, subject, entry);
    }

    fn insert_locked(&self, inner: &mut Generations, subject: &str, entry: Entry) {
        let size = entry.size(subject);
        if inner.young_bytes + size > self.generation_bytes {
            inner.old = std::mem::take(&mut inner.young);
            inner.young_bytes = 0;
        }
        let entries = match inner.young.get_mut(subject) {
            Some(entries) => entries,
            None => inner.young.entry(subject.to_owned()).or_default(),
        };
        // Bodies of another state of the resource are never served again, nor one this entry replaces.
        let mut freed = 0;
        entries.retain(|e| {
            let keep = e.etag == entry.etag && (e.slot, &e.selection) != (entry.slot, &entry.selection);
            if !keep {
                freed += e.size(subject);
            }
            keep
        });
        entries.push(entry);
        inner.young_bytes = inner.young_bytes.saturating_sub(freed) + size;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_by_state_and_syntax_within_the_budget() {
        let cache = Representations::new(1000);
        let (a, b) =
            (ETag::new("a").unwrap_or_else(|_| unreachable!()), ETag::new("b").unwrap_or_else(|_| unreachable!()));
        let kept = |body: &'static [u8]| Kept { body: Bytes::from_static(body), prefixes: 0 };
        let body = |kept: Option<Kept>| kept.map(|k| k.body);
        cache.put("http://e/1", &a, RdfFormat::Turtle, Kind::Whole, kept(b"turtle"));
        assert_eq!(body(cache.get("http://e/1", &a, RdfFormat::Turtle, Kind::Whole)).as_deref(), Some(&b"turtle"[..]));
        assert!(
            cache.get("http://e/1", &b, RdfFormat::Turtle, Kind::Whole).is_none(),
            "another state is another entry"
        );
        assert!(
            cache.get("http://e/1", &a, RdfFormat::RdfXml, Kind::Whole).is_none(),
            "another syntax is another entry"
        );
        assert!(cache.get("http://e/1", &a, RdfFormat::Turtle, Kind::Part("*")).is_none(), "a part is another entry");
        cache.put("http://e/1", &a, RdfFormat::Turtle, Kind::Part("*"), kept(b"part"));
        assert_eq!(
            body(cache.get("http://e/1", &a, RdfFormat::Turtle, Kind::Part("*"))).as_deref(),
            Some(&b"part"[..])
        );
        assert!(cache.get("http://e/1", &a, RdfFormat::Turtle, Kind::Part("<x>")).is_none(), "another selection");
        assert!(cache.get("http://e/1", &a, RdfFormat::Turtle, Kind::Whole).is_some(), "the whole is kept beside");
        cache.put("http://e/1", &b, RdfFormat::Turtle, Kind::Whole, kept(b"changed"));
        assert!(
            cache.get("http://e/1", &a, RdfFormat::Turtle, Kind::Part("*")).is_none(),
            "the previous state is gone"
        );
        for i in 0..100 {
            cache.put(&format!("http://e/{i}"), &b, RdfFormat::Turtle, Kind::Whole, kept(&[b'x'; 50]));
        }
        let inner = cache.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let held: usize = inner.young.values().chain(inner.old.values()).flatten().map(|e| e.kept.body.len()).sum();
        assert!(held <= 1000, "{held} bytes kept");
        drop(inner);
        assert!(cache.get("http://e/99", &b, RdfFormat::Turtle, Kind::Whole).is_some(), "the newest stay");
        cache.put("http://e/big", &a, RdfFormat::Turtle, Kind::Whole, kept(&[b'x'; 600]));
        assert!(
            cache.get("http://e/big", &a, RdfFormat::Turtle, Kind::Whole).is_none(),
            "a body over half the budget is not kept"
        );
    }
}
