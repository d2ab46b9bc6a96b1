//! `oslc.searchTerms` scores and `oslc.orderBy` keys: a total order over members, and the keyset page tokens cut
//! from it.

use std::cmp::Ordering;
use std::str::FromStr;

use base64::Engine as _;
use oxrdf::{NamedNodeRef, NamedOrBlankNodeRef, Term, TermRef};
use oxsdatatypes::{Date, DateTime};
use sha2::{Digest, Sha256};

use super::filter::{Kind, as_node, compare_number, parse_bool};
use crate::query::{Query, SortTerm};
use crate::query::{SearchTermList, SortList};
use crate::vocab::xsd;
use crate::{Error, Resource, Result};

/// The full-text score of a resource: the share of search terms (lowercased) found in its literals, 0–100.
pub(super) fn score(resource: &Resource, terms: &[String]) -> f64 {
    let mut found = vec![false; terms.len()];
    for triple in resource.triples() {
        if let TermRef::Literal(l) = triple.object {
            if !Kind::is_textual(l) && l.datatype() != xsd::string {
                continue;
            }
            let text = l.value().to_lowercase();
            for (i, term) in terms.iter().enumerate() {
                found[i] |= text.contains(term.as_str());
            }
        }
    }
    let hits = found.iter().filter(|f| **f).count();
    (100.0 * hits as f64 / terms.len() as f64 * 100.0).round() / 100.0
}

/// A sort key as a path of properties (`dcterms:creator{+foaf:name}` is [creator, name]) and a direction.
pub(super) struct SortPath<'q> {
    properties: Vec<NamedNodeRef<'q>>,
    ascending: bool,
}

pub(super) fn sort_paths(terms: &[SortTerm]) -> Vec<SortPath<'_>> {
    fn walk<'q>(terms: &'q [SortTerm], prefix: &[NamedNodeRef<'q>], out: &mut Vec<SortPath<'q>>) {
        for term in terms {
            match term {
                SortTerm::Key { ascending, property } => {
                    let mut properties = prefix.to_vec();
                    properties.push(property.iri());
                    out.push(SortPath { properties, ascending: *ascending });
                }
                SortTerm::Scoped { property, terms } => {
                    let mut nested = prefix.to_vec();
                    nested.push(property.iri());
                    walk(terms, &nested, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(terms, &[], &mut out);
    out
}

/// A member's place in the total order: score, sort-key values, IRI.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Key {
    score: Option<f64>,
    values: Vec<Option<Term>>,
    iri: KeyIri,
}

/// The IRI of a key: a member's (shared, not copied) or a page token's.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum KeyIri {
    Member(Resource),
    Token(String),
}

impl KeyIri {
    fn as_str(&self) -> &str {
        match self {
            Self::Member(resource) => resource.subject().as_str(),
            Self::Token(iri) => iri,
        }
    }
}

impl Key {
    pub(super) fn of(resource: &Resource, score: Option<f64>, paths: &[SortPath<'_>]) -> Self {
        let values = paths
            .iter()
            .map(|path| {
                let (last, walk) = path.properties.split_last()?;
                let mut node: NamedOrBlankNodeRef<'_> = resource.subject().into();
                for property in walk {
                    node = resource.objects_of(node, *property).find_map(as_node)?;
                }
                let candidates = resource.objects_of(node, *last);
                let pick = if path.ascending {
                    candidates.min_by(|a, b| compare_terms(*a, *b))
                } else {
                    candidates.max_by(|a, b| compare_terms(*a, *b))
                };
                pick.map(TermRef::into_owned)
            })
            .collect();
        Self { score, values, iri: KeyIri::Member(resource.clone()) }
    }

    pub(super) fn cmp_with(&self, other: &Self, paths: &[SortPath<'_>]) -> Ordering {
        let by_score = match (self.score, other.score) {
            (Some(a), Some(b)) => b.partial_cmp(&a).unwrap_or(Ordering::Equal),
            _ => Ordering::Equal,
        };
        by_score
            .then_with(|| {
                for ((a, b), path) in self.values.iter().zip(&other.values).zip(paths) {
                    let ordering = match (a, b) {
                        (Some(a), Some(b)) => {
                            let o = compare_terms(a.as_ref(), b.as_ref());
                            if path.ascending { o } else { o.reverse() }
                        }
                        (Some(_), None) => Ordering::Less,
                        (None, Some(_)) => Ordering::Greater,
                        (None, None) => Ordering::Equal,
                    };
                    if ordering != Ordering::Equal {
                        return ordering;
                    }
                }
                Ordering::Equal
            })
            .then_with(|| natural_cmp(self.iri.as_str(), other.iri.as_str()))
    }

    /// `v1`, the query fingerprint, the score, the IRI and each key value as an N-Triples term (`-` when missing),
    /// one per line, base64url-encoded.
    pub(super) fn to_token(&self, fingerprint: &str) -> String {
        let score = self.score.map_or("-".into(), |s| s.to_string());
        let mut text = format!("v1\n{fingerprint}\n{score}\n{}", self.iri.as_str());
        for value in &self.values {
            text.push('\n');
            match value {
                Some(term) => text.push_str(&term.to_string()),
                None => text.push('-'),
            }
        }
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    }

    pub(super) fn from_token(token: &str, fingerprint: &str, keys: usize) -> Result<Self> {
        let bad = || Error::InvalidQuery {
            parameter: super::super::PAGE_TOKEN_PARAM.to_owned(),
            position: 0,
            message: "not a page token of this query (start again from the first page)".to_owned(),
        };
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let mut lines = text.split('\n');
        if lines.next() != Some("v1") || lines.next() != Some(fingerprint) {
            return Err(bad());
        }
        let score = match lines.next().ok_or_else(bad)? {
            "-" => None,
            s => Some(s.parse().map_err(|_| bad())?),
        };
        let iri = KeyIri::Token(lines.next().ok_or_else(bad)?.to_owned());
        let values = lines
            .map(|line| if line == "-" { Ok(None) } else { Term::from_str(line).map(Some).map_err(|_| bad()) })
            .collect::<Result<Vec<_>>>()?;
        if values.len() != keys {
            return Err(bad());
        }
        Ok(Self { score, values, iri })
    }
}

/// A short hash of what decides the order, so a token is only accepted by the query that made it.
pub(super) fn fingerprint(query: &Query) -> String {
    let mut hasher = Sha256::new();
    hasher.update(SortList(&query.order_by).to_string());
    hasher.update("\n");
    hasher.update(SearchTermList(&query.search_terms).to_string());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&hasher.finalize()[..9])
}

/// Orders two values: numbers numerically, date-times and dates chronologically, booleans, then text, IRIs and
/// blank nodes by their strings; values of different kinds by kind.
pub(super) fn compare_terms(a: TermRef<'_>, b: TermRef<'_>) -> Ordering {
    fn rank(t: TermRef<'_>) -> (u8, Kind) {
        match t {
            TermRef::Literal(l) => (0, Kind::of(l.datatype())),
            TermRef::NamedNode(_) => (1, Kind::Other),
            _ => (2, Kind::Other),
        }
    }
    let (ra, rb) = (rank(a), rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    if let (TermRef::Literal(x), TermRef::Literal(y)) = (a, b) {
        let typed = match ra.1 {
            Kind::Number => compare_number(x, y.value()),
            Kind::DateTime => DateTime::from_str(x.value())
                .ok()
                .zip(DateTime::from_str(y.value()).ok())
                .and_then(|(p, q)| p.partial_cmp(&q)),
            Kind::Date => {
                Date::from_str(x.value()).ok().zip(Date::from_str(y.value()).ok()).and_then(|(p, q)| p.partial_cmp(&q))
            }
            Kind::Boolean => parse_bool(x.value()).zip(parse_bool(y.value())).map(|(p, q)| p.cmp(&q)),
            Kind::Text | Kind::Other => None,
        };
        return typed.unwrap_or_else(|| x.value().cmp(y.value()));
    }
    a.to_string().cmp(&b.to_string())
}

/// Compares strings with runs of digits compared as numbers, so `…/9` comes before `…/10`.
pub(super) fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    // Member IRIs share their container's IRI: skip the common prefix at memcmp speed, back to the start of the
    // digit run it ends in (equal bytes before a run compare equal whichever way they are read).
    let same = common_prefix(a, b);
    let mut start = same;
    while start > 0 && a[start - 1].is_ascii_digit() {
        start -= 1;
    }
    natural_cmp_bytes(&a[start..], &b[start..])
}

/// The length of the longest common prefix of `a` and `b`, compared 16 bytes at a time.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    // Fixed-size arrays compare in registers, without a call to memcmp per chunk.
    while let (Some(x), Some(y)) = (a[i..n].first_chunk::<16>(), b[i..n].first_chunk::<16>())
        && x == y
    {
        i += 16;
    }
    i + a[i..n].iter().zip(&b[i..n]).position(|(x, y)| x != y).unwrap_or(n - i)
}

fn natural_cmp_bytes(a: &[u8], b: &[u8]) -> Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let db = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (na, nb) = (trim_zeros(&a[..da]), trim_zeros(&b[..db]));
                let o = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb)).then_with(|| da.cmp(&db));
                if o != Ordering::Equal {
                    return o;
                }
                a = &a[da..];
                b = &b[db..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

pub(super) fn trim_zeros(digits: &[u8]) -> &[u8] {
    let start = digits.iter().position(|d| *d != b'0').unwrap_or(digits.len());
    &digits[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_compares_numbers_as_numbers() {
        assert_eq!(natural_cmp("r/9", "r/10"), Ordering::Less);
        assert_eq!(natural_cmp("r/10", "r/10"), Ordering::Equal);
        assert_eq!(natural_cmp("r/010", "r/10"), Ordering::Greater);
        assert_eq!(natural_cmp("r/a", "r/10"), Ordering::Greater);
        assert_eq!(natural_cmp("r/1a", "r/1b"), Ordering::Less);
        // A shared prefix that ends inside a number is compared as that number.
        assert_eq!(natural_cmp("r/129", "r/1210"), Ordering::Less);
        assert_eq!(natural_cmp("r/12", "r/12a"), Ordering::Less);
        assert_eq!(natural_cmp("x/0012", "x/012"), Ordering::Greater);
    }

    proptest::proptest! {
        #[test]
        fn skipping_the_common_prefix_changes_no_answer(a in "[a-c0-2/]{0,12}", b in "[a-c0-2/]{0,12}", p in "[a-c0-2/]{0,6}") {
            let (pa, pb) = (format!("{p}{a}"), format!("{p}{b}"));
            proptest::prop_assert_eq!(natural_cmp(&pa, &pb), natural_cmp_bytes(pa.as_bytes(), pb.as_bytes()));
            proptest::prop_assert_eq!(natural_cmp(&pa, &pb), natural_cmp(&pb, &pa).reverse());
        }
    }
}
