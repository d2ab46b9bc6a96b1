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
use std::time::Instant;

use super::Query;
use crate::{Error, Resource, Result};

mod filter;
mod order;
mod project;

use filter::{holds, prepare};
use order::{Key, fingerprint, score, sort_paths};
pub use project::{project, project_refs};

/// Sorts `resources` in the order queries without `oslc.orderBy` list them: by IRI, runs of digits compared as
/// numbers (`…/9` before `…/10`). A provider that keeps its listing in this order (sorted once per change, not
/// per request) saves every such query the sort.
///
/// ```
/// use oslc_core::Resource;
/// use oslc_core::oxrdf::NamedNode;
/// let mut resources: Vec<Resource> = ["10", "9", "a"]
///     .iter()
///     .map(|id| Resource::new(NamedNode::new(format!("https://tool.example/r/{id}")).unwrap()))
///     .collect();
/// oslc_core::query::sort_in_natural_order(&mut resources);
/// let order: Vec<&str> = resources.iter().map(|r| r.subject().as_str().rsplit('/').next().unwrap()).collect();
/// assert_eq!(order, ["9", "10", "a"]);
/// ```
pub fn sort_in_natural_order(resources: &mut [Resource]) {
    resources.sort_by(|a, b| order::natural_cmp(a.subject().as_str(), b.subject().as_str()));
}

/// A container's members in natural order (see [`sort_in_natural_order`]), shared: cheap to clone and to keep
/// between changes. A provider that keeps one ([`crate::ResourceProvider::listing`]) has pages of queries that
/// neither filter, search nor order cut from it by binary search ([`page_of`]): a page then costs the same over
/// 100 members or 100,000.
///
/// ```
/// use oslc_core::Resource;
/// use oslc_core::oxrdf::NamedNode;
/// use oslc_core::query::Listing;
/// let resources: Vec<Resource> = ["10", "9"]
///     .iter()
///     .map(|id| Resource::new(NamedNode::new(format!("https://tool.example/r/{id}")).unwrap()))
///     .collect();
/// let listing = Listing::new(resources);
/// assert_eq!(listing.resources()[0].subject().as_str(), "https://tool.example/r/9");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Listing(std::sync::Arc<[Resource]>);

impl Listing {
    /// The listing of `resources`, sorted in natural order (in linear time when they are in it already).
    #[must_use]
    pub fn new(mut resources: Vec<Resource>) -> Self {
        sort_in_natural_order(&mut resources);
        Self(resources.into())
    }

    /// The members, in natural order.
    #[must_use]
    pub fn resources(&self) -> &[Resource] {
        &self.0
    }

    /// How many members there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The page of `query` cut from `listing` (`page_size` members after the query's page token, all when `None`),
/// without looking at the other members: `None` when the query filters (`oslc.where`), searches or orders, which
/// [`evaluate`] does over every member. Pages and their tokens are those [`evaluate`] gives for the same query.
///
/// ```
/// use oslc_core::{Resource, vocab::standard_prefixes};
/// use oslc_core::oxrdf::NamedNode;
/// use oslc_core::query::{Evaluation, Listing, PAGE_TOKEN_PARAM, Query, evaluate, page_of};
/// let resources: Vec<Resource> = (1..=250)
///     .map(|id| Resource::new(NamedNode::new(format!("https://tool.example/r/{id}")).unwrap()))
///     .collect();
/// let listing = Listing::new(resources.clone());
/// let query = Query::from_params([("oslc.paging", "true")], &standard_prefixes())?;
/// let first = page_of(&query, &listing, Some(100))?.expect("a plain page");
/// assert_eq!(first, evaluate(&query, resources, Evaluation::Filter, Some(100))?);
/// let token = first.next_page_token.clone().unwrap();
/// let next = Query::from_params([("oslc.paging", "true"), (PAGE_TOKEN_PARAM, token.as_str())], &standard_prefixes())?;
/// let second = page_of(&next, &listing, Some(100))?.unwrap();
/// assert_eq!(second.members[0].order, 101);
/// assert_eq!(second.members[0].resource.subject().as_str(), "https://tool.example/r/101");
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`Error::InvalidQuery`] for a page token that this query did not produce.
pub fn page_of(query: &Query, listing: &Listing, page_size: Option<usize>) -> Result<Option<QueryPage>> {
    let searches = query.search_terms.iter().any(|t| !t.is_empty());
    if query.where_clause.is_some() || searches || !query.order_by.is_empty() {
        return Ok(None);
    }
    let fingerprint = fingerprint(query);
    let members = listing.resources();
    let start = match &query.page_token {
        Some(token) => {
            let cursor = Key::from_token(token, &fingerprint, 0)?;
            members.partition_point(|r| Key::of(r, None, &[]).cmp_with(&cursor, &[]) != Ordering::Greater)
        }
        None => 0,
    };
    let end = page_size.map_or(members.len(), |size| start.saturating_add(size).min(members.len()));
    let page = &members[start..end];
    let next_page_token = match page.last() {
        Some(last) if end < members.len() => Some(Key::of(last, None, &[]).to_token(&fingerprint)),
        _ => None,
    };
    let members = page
        .iter()
        .enumerate()
        .map(|(i, resource)| Member { resource: resource.clone(), score: None, order: start + i + 1 })
        .collect();
    Ok(Some(QueryPage { members, total_count: listing.len(), next_page_token }))
}

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
    // Members listed in the query's order already (a provider that keeps its list in natural order, see
    // [`sort_in_natural_order`], and a query without `oslc.orderBy` or search terms) need no selection or sort: one
    // linear check instead.
    let sorted = keyed.is_sorted_by(|a, b| compare(a, b) != Ordering::Greater);
    let next_page_token = match page_size {
        Some(size) if keyed.len() > size && sorted => {
            keyed.truncate(size);
            keyed.last().map(|(key, _)| key.to_token(&fingerprint))
        }
        _ if sorted => None,
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::vocab::standard_prefixes;
    use oxrdf::NamedNode;

    fn query(token: Option<&str>) -> Query {
        let mut params = vec![("oslc.paging", "true")];
        if let Some(token) = token {
            params.push((crate::query::PAGE_TOKEN_PARAM, token));
        }
        Query::from_params(params, &standard_prefixes()).unwrap()
    }

    proptest::proptest! {
        /// Walking a plain query page by page, the pages cut from the listing are the pages evaluated over every
        /// member: the same members, orders, totals and tokens, whatever the ids (numbers, letters, mixed).
        #[test]
        fn pages_cut_from_the_listing_are_the_evaluated_pages(
            ids in proptest::collection::btree_set("[a-c0-9]{1,4}", 0..60),
            size in 1usize..12,
        ) {
            let resources: Vec<Resource> = ids
                .iter()
                .rev()
                .map(|id| Resource::new(NamedNode::new(format!("https://tool.example/r/{id}")).unwrap()))
                .collect();
            let listing = Listing::new(resources.clone());
            let mut token: Option<String> = None;
            let mut seen = 0;
            loop {
                let query = query(token.as_deref());
                let cut = page_of(&query, &listing, Some(size)).unwrap().unwrap();
                let evaluated = evaluate(&query, resources.clone(), Evaluation::Filter, Some(size)).unwrap();
                proptest::prop_assert_eq!(&cut, &evaluated);
                seen += cut.members.len();
                proptest::prop_assert!(seen <= ids.len(), "pages repeat members");
                match cut.next_page_token {
                    Some(next) => token = Some(next),
                    None => break,
                }
            }
            proptest::prop_assert_eq!(seen, ids.len());
        }
    }

    #[test]
    fn a_query_that_filters_searches_or_orders_is_not_cut_from_the_listing() {
        let listing = Listing::new(vec![Resource::new(NamedNode::new("https://tool.example/r/1").unwrap())]);
        for (name, value) in
            [("oslc.where", "dcterms:title=\"x\""), ("oslc.searchTerms", "\"x\""), ("oslc.orderBy", "+dcterms:title")]
        {
            let query = Query::from_params([(name, value)], &standard_prefixes()).unwrap();
            assert!(page_of(&query, &listing, Some(10)).unwrap().is_none(), "{name}");
        }
        let stranger =
            Query::from_params([(crate::query::PAGE_TOKEN_PARAM, "bm90IGEgdG9rZW4")], &standard_prefixes()).unwrap();
        assert!(matches!(page_of(&stranger, &listing, Some(10)), Err(Error::InvalidQuery { .. })));
    }
}
