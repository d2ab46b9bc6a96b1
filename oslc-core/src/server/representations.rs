//! Serialized representations of resources, kept by resource state and syntax so a resource read again is not
//! serialized again (issue: serve at the speed of the wire).
//!
//! Entries are keyed by the resource's IRI, its ETag (a hash of its canonical triples) and the syntax, so a changed
//! resource is never answered from the cache: its ETag changes. Memory is bounded by bytes with two generations:
//! when the young one is full it becomes the old one and the previous old one is dropped; a hit in the old one moves
//! the entry back to the young one. So the resources read most stay, at no bookkeeping cost per read.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use axum::body::Bytes;

use crate::ETag;
use crate::rdf::{FORMATS, RdfFormat};

type Key = (String, String, usize);

/// A bounded cache of serialized representations.
#[derive(Debug)]
pub(super) struct Representations {
    generation_bytes: usize,
    inner: Mutex<Generations>,
}

#[derive(Debug, Default)]
struct Generations {
    young: HashMap<Key, Bytes>,
    young_bytes: usize,
    old: HashMap<Key, Bytes>,
}

impl Representations {
    /// A cache holding at most about `max_bytes` of bodies (0: nothing is kept).
    pub(super) fn new(max_bytes: usize) -> Self {
        Self { generation_bytes: max_bytes / 2, inner: Mutex::default() }
    }

    fn key(subject: &str, etag: &ETag, format: RdfFormat) -> Option<Key> {
        let slot = FORMATS.iter().position(|f| *f == format)?;
        Some((subject.to_owned(), etag.opaque().to_owned(), slot))
    }

    /// The body of `subject` at `etag` in `format`, if kept.
    pub(super) fn get(&self, subject: &str, etag: &ETag, format: RdfFormat) -> Option<Bytes> {
        let key = Self::key(subject, etag, format)?;
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(body) = inner.young.get(&key) {
            return Some(body.clone());
        }
        let body = inner.old.remove(&key)?;
        self.insert_locked(&mut inner, key, body.clone());
        Some(body)
    }

    /// Keeps `body` as the representation of `subject` at `etag` in `format`.
    pub(super) fn put(&self, subject: &str, etag: &ETag, format: RdfFormat, body: Bytes) {
        let Some(key) = Self::key(subject, etag, format) else { return };
        if body.len() > self.generation_bytes {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        self.insert_locked(&mut inner, key, body);
    }

    fn insert_locked(&self, inner: &mut Generations, key: Key, body: Bytes) {
        let size = body.len() + key.0.len() + key.1.len();
        if inner.young_bytes + size > self.generation_bytes {
            inner.old = std::mem::take(&mut inner.young);
            inner.young_bytes = 0;
        }
        inner.young_bytes += size;
        inner.young.insert(key, body);
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
        cache.put("http://e/1", &a, RdfFormat::Turtle, Bytes::from_static(b"turtle"));
        assert_eq!(cache.get("http://e/1", &a, RdfFormat::Turtle).as_deref(), Some(&b"turtle"[..]));
        assert!(cache.get("http://e/1", &b, RdfFormat::Turtle).is_none(), "another state is another entry");
        assert!(cache.get("http://e/1", &a, RdfFormat::RdfXml).is_none(), "another syntax is another entry");
        for i in 0..100 {
            cache.put(&format!("http://e/{i}"), &b, RdfFormat::Turtle, Bytes::from(vec![b'x'; 50]));
        }
        let inner = cache.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let kept: usize = inner.young.values().chain(inner.old.values()).map(Bytes::len).sum();
        assert!(kept <= 1000, "{kept} bytes kept");
        drop(inner);
        assert!(cache.get("http://e/99", &b, RdfFormat::Turtle).is_some(), "the newest stay");
        cache.put("http://e/big", &a, RdfFormat::Turtle, Bytes::from(vec![b'x'; 600]));
        assert!(cache.get("http://e/big", &a, RdfFormat::Turtle).is_none(), "a body over half the budget is not kept");
    }
}
