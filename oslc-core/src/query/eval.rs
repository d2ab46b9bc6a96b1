//! Evaluating a [`Query`] over resources: filtering by `oslc.where` (typed comparisons), scoring by
//! `oslc.searchTerms`, ordering by `oslc.orderBy`, keyset paging, and projection by `oslc.select`.
//!
//! Semantics, where OSLC Query 3.0 leaves a choice to the server:
//! - A term holds when *some* value of the property satisfies it (so `!=` holds when some value differs); a
//!   property without values satisfies no term.
//! - Strings compare case-sensitively; a language-tagged query string only matches values in that language.
//!   Plain strings compared with `xsd:dateTime`, numeric or boolean values are read as that type.
//! - Scoped terms (`dcterms:creator{foaf:name="Deb"}`) and nested selects follow the values' triples in the
//!   member's own representation.
//! - Members are ordered by `oslc:score` (descending) when searching, then by the `oslc.orderBy` keys (values
//!   missing last), then by member IRI (numbers in IRIs compared as numbers), so the order is total and pages are
//!   cut by the last member's key, not by an offset: members added or removed between page requests do not make
//!   others skipped or repeated.
//! - `oslc.pageSize` counts members.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::str::FromStr;
use std::time::Instant;

use base64::Engine as _;
use oxrdf::{Graph, LiteralRef, NamedNodeRef, NamedOrBlankNodeRef, Term, TermRef, TripleRef};
use oxsdatatypes::{Boolean, Date, DateTime, Decimal, Double};
use sha2::{Digest, Sha256};

use super::{ComparisonOp, SearchTermList, SortList};
use super::{CompoundTerm, Property, Query, SelectTerm, SimpleTerm, SortTerm, Value};
use crate::vocab::{rdf, xsd};
use crate::{Error, Resource, Result};

/// A member of a query result, with its `oslc:score` when the query searched.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The resource.
    pub resource: Resource,
    /// Its full-text score, 0–100, when `oslc.searchTerms` was given.
    pub score: Option<f64>,
    /// Its 1-based position in the whole result (the `oslc:order` pseudo-property): positions grow across pages.
    pub order: usize,
}

/// One page (or all) of a query's result, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryPage {
    /// The members of this page, in order.
    pub members: Vec<Member>,
    /// How many members the whole result has.
    pub total_count: usize,
    /// The token of the next page, if there is one.
    pub next_page_token: Option<String>,
}

/// Whether the resources handed to [`evaluate`] still need filtering by `oslc.where`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evaluation {
    /// Apply `oslc.where`.
    Filter,
    /// The provider already applied `oslc.where` (pushed down); only score, order and page.
    AlreadyFiltered,
}

/// Runs `query` over `resources`: filters, scores, orders, and cuts the page of `page_size` members (all members
/// when `None`) that follows the query's page token.
///
/// # Errors
/// [`Error::InvalidQuery`] for a page token that this query did not produce.
pub fn evaluate(
    query: &Query,
    resources: Vec<Resource>,
    evaluation: Evaluation,
    page_size: Option<usize>,
) -> Result<QueryPage> {
    evaluate_within(query, resources, evaluation, page_size, None)
}

/// [`evaluate`], giving up at `deadline` (checked every few members).
///
/// ```
/// use std::time::{Duration, Instant};
/// use oslc_core::query::{Evaluation, Query, evaluate_within};
/// use oslc_core::{Resource, vocab::standard_prefixes};
///
/// let query = Query::from_params([("oslc.where", "dcterms:title=\"x\"")], &standard_prefixes())?;
/// let resources = vec![Resource::new(oxrdf::NamedNode::new("http://e.com/1")?); 100];
/// let past = Instant::now() - Duration::from_secs(1);
/// let error = evaluate_within(&query, resources, Evaluation::Filter, None, Some(past)).unwrap_err();
/// assert_eq!(error.status(), 400);
/// Ok::<_, Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`evaluate`]; [`Error::LimitExceeded`] when the deadline passes.
pub fn evaluate_within(
    query: &Query,
    resources: Vec<Resource>,
    evaluation: Evaluation,
    page_size: Option<usize>,
    deadline: Option<Instant>,
) -> Result<QueryPage> {
    let started = Instant::now();
    let check = |i: usize| match deadline {
        Some(deadline) if i.is_multiple_of(32) && Instant::now() > deadline => Err(Error::limit(
            "milliseconds of query evaluation",
            usize::try_from(deadline.saturating_duration_since(started).as_millis()).unwrap_or(usize::MAX),
        )),
        _ => Ok(()),
    };
    let terms: Vec<String> = query.search_terms.iter().map(|t| t.to_lowercase()).filter(|t| !t.is_empty()).collect();
    let paths = sort_paths(&query.order_by);
    let clause = query.where_clause.as_ref().map(prepare);
    let mut keyed: Vec<(Key, Member)> = Vec::new();
    for (i, resource) in resources.into_iter().enumerate() {
        check(i)?;
        if evaluation == Evaluation::Filter
            && let Some(clause) = &clause
            && !holds(&resource, resource.subject().into(), clause)
        {
            continue;
        }
        let score = if terms.is_empty() {
            None
        } else {
            match score(&resource, &terms) {
                0.0 => continue,
                s => Some(s),
            }
        };
        let key = Key::of(&resource, score, &paths);
        keyed.push((key, Member { resource, score, order: 0 }));
    }
    let total_count = keyed.len();
    let fingerprint = fingerprint(query);
    if let Some(token) = &query.page_token {
        let cursor = Key::from_token(token, &fingerprint, paths.len())?;
        keyed.retain(|(key, _)| key.cmp_with(&cursor, &paths) == Ordering::Greater);
    }
    let before_page = total_count - keyed.len();
    let compare = |a: &(Key, Member), b: &(Key, Member)| a.0.cmp_with(&b.0, &paths);
    let next_page_token = match page_size {
        Some(size) if keyed.len() > size => {
            // Only the page is sorted: selecting it is linear in the number of members.
            keyed.select_nth_unstable_by(size, compare);
            keyed.truncate(size);
            keyed.sort_unstable_by(compare);
            keyed.last().map(|(key, _)| key.to_token(&fingerprint))
        }
        _ => {
            keyed.sort_unstable_by(compare);
            None
        }
    };
    let members =
        keyed.into_iter().enumerate().map(|(i, (_, member))| Member { order: before_page + i + 1, ..member }).collect();
    Ok(QueryPage { members, total_count, next_page_token })
}

/// A value of `oslc.where` with its typed readings, parsed once per query rather than once per comparison.
struct Prepared<'q> {
    value: &'q Value,
    datetime: Option<DateTime>,
    date: Option<Date>,
    decimal: Option<Decimal>,
    double: Option<Double>,
    boolean: Option<bool>,
}

impl<'q> Prepared<'q> {
    fn new(value: &'q Value) -> Self {
        let lexical = match value {
            Value::Integer(l) | Value::Decimal(l) => Some(l.as_str()),
            Value::String { value, .. } => Some(value.as_str()),
            _ => None,
        };
        Self {
            value,
            datetime: lexical.and_then(|l| DateTime::from_str(l).ok()),
            date: lexical.and_then(|l| Date::from_str(l).ok()),
            decimal: lexical.and_then(|l| Decimal::from_str(l).ok()),
            double: lexical.and_then(|l| Double::from_str(l).ok()),
            boolean: lexical.and_then(parse_bool),
        }
    }
}

/// A term of `oslc.where` with its values prepared.
enum PreparedTerm<'q> {
    Comparison { property: &'q Property, op: ComparisonOp, value: Prepared<'q> },
    In { property: &'q Property, values: Vec<Prepared<'q>> },
    Scoped { property: &'q Property, terms: Vec<PreparedTerm<'q>> },
}

fn prepare(clause: &CompoundTerm) -> Vec<PreparedTerm<'_>> {
    clause
        .0
        .iter()
        .map(|term| match term {
            SimpleTerm::Comparison { property, op, value } => {
                PreparedTerm::Comparison { property, op: *op, value: Prepared::new(value) }
            }
            SimpleTerm::In { property, values } => {
                PreparedTerm::In { property, values: values.iter().map(Prepared::new).collect() }
            }
            SimpleTerm::Scoped { property, terms } => PreparedTerm::Scoped { property, terms: prepare(terms) },
        })
        .collect()
}

/// Whether `node` (the member or a node nested in it) satisfies every term.
fn holds(resource: &Resource, node: NamedOrBlankNodeRef<'_>, clause: &[PreparedTerm<'_>]) -> bool {
    clause.iter().all(|term| match term {
        PreparedTerm::Comparison { property, op, value } => {
            values(resource, node, property).any(|o| satisfies(compare(o, value), *op))
        }
        PreparedTerm::In { property, values: candidates } => {
            values(resource, node, property).any(|o| candidates.iter().any(|v| compare(o, v) == Some(Ordering::Equal)))
        }
        PreparedTerm::Scoped { property, terms } => values(resource, node, property).any(|o| match as_node(o) {
            Some(n) => holds(resource, n, terms),
            None => false,
        }),
    })
}

fn values<'a>(
    resource: &'a Resource,
    node: NamedOrBlankNodeRef<'a>,
    property: &'a Property,
) -> Box<dyn Iterator<Item = TermRef<'a>> + 'a> {
    match property {
        Property::Wildcard => Box::new(resource.triples_of(node).map(|t| t.object)),
        Property::Name(name) => resource.objects_of(node, name.iri()),
    }
}

fn as_node(term: TermRef<'_>) -> Option<NamedOrBlankNodeRef<'_>> {
    match term {
        TermRef::NamedNode(n) => Some(n.into()),
        TermRef::BlankNode(b) => Some(b.into()),
        _ => None,
    }
}

fn satisfies(ordering: Option<Ordering>, op: ComparisonOp) -> bool {
    match op {
        ComparisonOp::Eq => ordering == Some(Ordering::Equal),
        ComparisonOp::Ne => ordering != Some(Ordering::Equal),
        ComparisonOp::Lt => ordering == Some(Ordering::Less),
        ComparisonOp::Gt => ordering == Some(Ordering::Greater),
        ComparisonOp::Le => matches!(ordering, Some(Ordering::Less | Ordering::Equal)),
        ComparisonOp::Ge => matches!(ordering, Some(Ordering::Greater | Ordering::Equal)),
    }
}

/// How `term` (a member's value) compares with the query's `value`; `None` when they cannot be compared.
fn compare(term: TermRef<'_>, prepared: &Prepared<'_>) -> Option<Ordering> {
    match prepared.value {
        Value::Iri(iri) => compare_iri(term, iri.as_ref()),
        Value::Name(name) => compare_iri(term, name.iri()),
        Value::Boolean(b) => Some(parse_bool(literal(term)?.value())?.cmp(b)),
        Value::Integer(_) | Value::Decimal(_) => compare_prepared_number(literal(term)?, prepared),
        Value::String { value, language, datatype } => {
            let term = literal(term)?;
            let as_type = datatype.as_ref().map_or_else(|| term.datatype(), |d| d.iri());
            match Kind::of(as_type) {
                Kind::DateTime => DateTime::from_str(term.value()).ok()?.partial_cmp(prepared.datetime.as_ref()?),
                Kind::Date => Date::from_str(term.value()).ok()?.partial_cmp(prepared.date.as_ref()?),
                Kind::Number => compare_prepared_number(term, prepared),
                Kind::Boolean => Some(parse_bool(term.value())?.cmp(&prepared.boolean?)),
                Kind::Text => {
                    if datatype.is_some() && !Kind::is_textual(term) {
                        return None;
                    }
                    if let Some(language) = language
                        && !term.language().is_some_and(|l| l.eq_ignore_ascii_case(language))
                    {
                        return None;
                    }
                    Some(term.value().cmp(value.as_str()))
                }
                Kind::Other => (term.datatype() == as_type).then(|| term.value().cmp(value.as_str())),
            }
        }
    }
}

fn compare_iri(term: TermRef<'_>, iri: NamedNodeRef<'_>) -> Option<Ordering> {
    match term {
        TermRef::NamedNode(n) => Some(n.as_str().cmp(iri.as_str())),
        _ => None,
    }
}

fn literal(term: TermRef<'_>) -> Option<LiteralRef<'_>> {
    match term {
        TermRef::Literal(l) => Some(l),
        _ => None,
    }
}

fn parse_bool(lexical: &str) -> Option<bool> {
    Boolean::from_str(lexical.trim()).ok().map(bool::from)
}

/// [`compare_number`] with the query value's readings parsed already.
fn compare_prepared_number(term: LiteralRef<'_>, prepared: &Prepared<'_>) -> Option<Ordering> {
    let dt = term.datatype();
    if dt != xsd::double
        && dt != xsd::float
        && let (Ok(a), Some(b)) = (Decimal::from_str(term.value().trim()), prepared.decimal)
    {
        return Some(a.cmp(&b));
    }
    Double::from_str(term.value().trim()).ok()?.partial_cmp(&prepared.double?)
}

fn compare_number(term: LiteralRef<'_>, lexical: &str) -> Option<Ordering> {
    let dt = term.datatype();
    if dt != xsd::double
        && dt != xsd::float
        && let (Ok(a), Ok(b)) = (Decimal::from_str(term.value().trim()), Decimal::from_str(lexical))
    {
        return Some(a.cmp(&b));
    }
    let (a, b) = (Double::from_str(term.value().trim()).ok()?, Double::from_str(lexical).ok()?);
    a.partial_cmp(&b)
}

/// How a datatype compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Number,
    DateTime,
    Date,
    Boolean,
    Text,
    Other,
}

impl Kind {
    fn of(datatype: NamedNodeRef<'_>) -> Self {
        const NUMBERS: [&str; 16] = [
            "integer",
            "decimal",
            "double",
            "float",
            "int",
            "long",
            "short",
            "byte",
            "nonNegativeInteger",
            "positiveInteger",
            "negativeInteger",
            "nonPositiveInteger",
            "unsignedInt",
            "unsignedLong",
            "unsignedShort",
            "unsignedByte",
        ];
        if let Some(local) = datatype.as_str().strip_prefix(xsd::NS) {
            return match local {
                "dateTime" | "dateTimeStamp" => Self::DateTime,
                "date" => Self::Date,
                "boolean" => Self::Boolean,
                "string" | "normalizedString" | "token" => Self::Text,
                l if NUMBERS.contains(&l) => Self::Number,
                _ => Self::Other,
            };
        }
        if datatype == rdf::langString || datatype == rdf::XMLLiteral { Self::Text } else { Self::Other }
    }

    fn is_textual(term: LiteralRef<'_>) -> bool {
        Self::of(term.datatype()) == Self::Text
    }
}

/// The full-text score of a resource: the share of search terms (lowercased) found in its literals, 0–100.
fn score(resource: &Resource, terms: &[String]) -> f64 {
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
struct SortPath<'q> {
    properties: Vec<NamedNodeRef<'q>>,
    ascending: bool,
}

fn sort_paths(terms: &[SortTerm]) -> Vec<SortPath<'_>> {
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
struct Key {
    score: Option<f64>,
    values: Vec<Option<Term>>,
    iri: KeyIri,
}

/// The IRI of a key: a member's (shared, not copied) or a page token's.
#[derive(Debug, Clone, PartialEq)]
enum KeyIri {
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
    fn of(resource: &Resource, score: Option<f64>, paths: &[SortPath<'_>]) -> Self {
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

    fn cmp_with(&self, other: &Self, paths: &[SortPath<'_>]) -> Ordering {
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
    fn to_token(&self, fingerprint: &str) -> String {
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

    fn from_token(token: &str, fingerprint: &str, keys: usize) -> Result<Self> {
        let bad = || Error::InvalidQuery {
            parameter: super::PAGE_TOKEN_PARAM.to_owned(),
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
fn fingerprint(query: &Query) -> String {
    let mut hasher = Sha256::new();
    hasher.update(SortList(&query.order_by).to_string());
    hasher.update("\n");
    hasher.update(SearchTermList(&query.search_terms).to_string());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&hasher.finalize()[..9])
}

/// Orders two values: numbers numerically, date-times and dates chronologically, booleans, then text, IRIs and
/// blank nodes by their strings; values of different kinds by kind.
fn compare_terms(a: TermRef<'_>, b: TermRef<'_>) -> Ordering {
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
fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
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

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let start = digits.iter().position(|d| *d != b'0').unwrap_or(digits.len());
    &digits[start..]
}

/// Adds to `out` the triples of `resource` that `select` asks for (OSLC Query 3.0 § oslc.select): `*` is every
/// property; `p{…}` adds the nested properties of `p`'s values; blank-node values come with their own triples so
/// nothing dangles; `rdf:nil` alone selects nothing.
pub fn project(resource: &Resource, select: &[SelectTerm], out: &mut Graph) {
    let mut triples = Vec::new();
    project_refs(resource, select, &mut triples);
    for triple in triples {
        out.insert(triple);
    }
}

/// [`project`] without copying: appends the selected triples, borrowed from `resource`, to `out` (a triple can
/// appear more than once).
pub fn project_refs<'g>(resource: &'g Resource, select: &[SelectTerm], out: &mut Vec<TripleRef<'g>>) {
    let mut visited = HashSet::new();
    project_node(resource, resource.subject().into(), select, out, &mut visited);
}

fn project_node<'g>(
    resource: &'g Resource,
    node: NamedOrBlankNodeRef<'g>,
    select: &[SelectTerm],
    out: &mut Vec<TripleRef<'g>>,
    visited: &mut HashSet<(NamedOrBlankNodeRef<'g>, usize)>,
) {
    // The same node reached again with the same select list adds nothing new; this also ends cycles.
    if !visited.insert((node, select.as_ptr() as usize)) {
        return;
    }
    for term in select {
        let triples: Vec<TripleRef<'g>> = match &term.property {
            Property::Wildcard => resource.triples_of(node).collect(),
            Property::Name(name) if name.iri() == rdf::nil => continue,
            Property::Name(name) => resource.triples_of(node).filter(|t| t.predicate == name.iri()).collect(),
        };
        for triple in triples {
            out.push(triple);
            match (&term.nested, as_node(triple.object)) {
                (Some(nested), Some(value)) => project_node(resource, value, nested, out, visited),
                (None, Some(value @ NamedOrBlankNodeRef::BlankNode(_))) => add_closure(resource, value, out, visited),
                _ => {}
            }
        }
    }
}

/// Adds every triple reachable from a blank node through blank nodes.
fn add_closure<'g>(
    resource: &'g Resource,
    node: NamedOrBlankNodeRef<'g>,
    out: &mut Vec<TripleRef<'g>>,
    visited: &mut HashSet<(NamedOrBlankNodeRef<'g>, usize)>,
) {
    if !visited.insert((node, 0)) {
        return;
    }
    for triple in resource.triples_of(node) {
        out.push(triple);
        if let TermRef::BlankNode(b) = triple.object {
            add_closure(resource, b.into(), out, visited);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxrdf::Literal;

    #[test]
    fn natural_order_compares_numbers_as_numbers() {
        assert_eq!(natural_cmp("r/9", "r/10"), Ordering::Less);
        assert_eq!(natural_cmp("r/10", "r/10"), Ordering::Equal);
        assert_eq!(natural_cmp("r/010", "r/10"), Ordering::Greater);
        assert_eq!(natural_cmp("r/a", "r/10"), Ordering::Greater);
        assert_eq!(natural_cmp("r/1a", "r/1b"), Ordering::Less);
    }

    #[test]
    fn literal_comparisons_are_typed() {
        let int = Literal::new_typed_literal("10", xsd::integer);
        let when = Literal::new_typed_literal("2018-01-30T12:25:00Z", xsd::dateTime);
        let cmp = |term: TermRef<'_>, value: Value| compare(term, &Prepared::new(&value));
        assert_eq!(cmp(int.as_ref().into(), Value::Integer("9".into())), Some(Ordering::Greater));
        assert_eq!(cmp(int.as_ref().into(), Value::Decimal("10.0".into())), Some(Ordering::Equal));
        let plain = |s: &str| Value::String { value: s.into(), language: None, datatype: None };
        assert_eq!(cmp(when.as_ref().into(), plain("2018-01-30T12:26:00Z")), Some(Ordering::Less));
        assert_eq!(cmp(when.as_ref().into(), plain("not a date")), None);
        let text = Literal::new_simple_literal("abc");
        assert_eq!(cmp(text.as_ref().into(), plain("abd")), Some(Ordering::Less));
        assert_eq!(cmp(text.as_ref().into(), Value::Integer("1".into())), None);
    }
}
