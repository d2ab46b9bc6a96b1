//! OSLC Query 3.0: parsing the query parameters into a [`Query`], and evaluating it over resources.
//!
//! ```
//! use oslc_core::query::Query;
//! use oslc_core::vocab::standard_prefixes;
//!
//! let query = Query::from_params(
//!     [("oslc.where", r#"dcterms:creator{foaf:name="Deb"} and oslc_cm:fixed=false"#),
//!      ("oslc.prefix", "foaf=<http://xmlns.com/foaf/0.1/>"),
//!      ("oslc.select", "dcterms:title,dcterms:creator{foaf:name}"),
//!      ("oslc.orderBy", "-dcterms:created"),
//!      ("oslc.paging", "true"), ("oslc.pageSize", "50")],
//!     &standard_prefixes(),
//! )?;
//! assert_eq!(query.page_size, Some(50));
//! assert_eq!(query.where_clause.unwrap().to_string(), r#"dcterms:creator{foaf:name="Deb"} and oslc_cm:fixed=false"#);
//!
//! let bad = Query::from_params([("oslc.where", "dcterms:title=\"open")], &standard_prefixes()).unwrap_err();
//! assert_eq!(bad.to_string(), "invalid oslc.where at position 14: missing closing '\"'");
//! Ok::<_, Box<dyn std::error::Error>>(())
//! ```

mod ast;
mod eval;
mod parse;
#[cfg(test)]
mod roundtrip;

pub use ast::{
    ComparisonOp, CompoundTerm, PrefixedName, Property, SearchTermList, SelectList, SelectTerm, SimpleTerm, SortList,
    SortTerm, Value,
};
pub use eval::{
    Evaluation, Listing, Member, QueryPage, evaluate, evaluate_within, page_of, project, project_refs,
    sort_in_natural_order,
};

use parse::Parser;

use crate::rdf::Prefixes;
use crate::{Error, Result};

/// Budgets for one query, so an anonymous client cannot make the server work for long: every outside input has a
/// size, count and time budget. Going over one is a 400 ([`Error::LimitExceeded`]) before any resource is read,
/// except the deadline, which stops evaluation where it is.
///
/// | budget | default |
/// |---|---|
/// | [`max_parameter_bytes`](Self::max_parameter_bytes): bytes of one query parameter's value | 8 KiB |
/// | [`max_terms`](Self::max_terms): terms of `oslc.where`, nested ones included | 32 |
/// | [`max_in_values`](Self::max_in_values): values of one `in [...]` list | 100 |
/// | [`max_select_terms`](Self::max_select_terms): properties of `oslc.select`/`oslc.properties`, nested ones included | 64 |
/// | [`max_sort_keys`](Self::max_sort_keys): keys of `oslc.orderBy` | 8 |
/// | [`max_search_terms`](Self::max_search_terms): terms of `oslc.searchTerms` | 16 |
/// | [`max_depth`](Self::max_depth): nesting of `{ }` in any parameter | 4 |
/// | [`deadline`](Self::deadline): evaluating and projecting one page | 2 s |
///
/// ```
/// use oslc_core::query::{Query, QueryLimits};
/// use oslc_core::vocab::standard_prefixes;
///
/// let limits = QueryLimits::default().with_max_in_values(2);
/// let error = Query::from_params_with_limits([("oslc.where", "oslc:shortTitle in [\"a\",\"b\",\"c\"]")],
///     &standard_prefixes(), &limits).unwrap_err();
/// assert_eq!(error.to_string(), "values of an `in` list of oslc.where exceeds the limit of 2");
/// Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueryLimits {
    /// The longest value of one query parameter, in bytes.
    pub max_parameter_bytes: usize,
    /// The most terms in `oslc.where`, nested ones included.
    pub max_terms: usize,
    /// The most values in one `in [...]` list.
    pub max_in_values: usize,
    /// The most properties in `oslc.select` or `oslc.properties`, nested ones included.
    pub max_select_terms: usize,
    /// The most keys in `oslc.orderBy`.
    pub max_sort_keys: usize,
    /// The most terms in `oslc.searchTerms`.
    pub max_search_terms: usize,
    /// The deepest nesting of `{ }`.
    pub max_depth: usize,
    /// How long evaluating one query may take.
    pub deadline: std::time::Duration,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            max_parameter_bytes: 8 * 1024,
            max_terms: 32,
            max_in_values: 100,
            max_select_terms: 64,
            max_sort_keys: 8,
            max_search_terms: 16,
            max_depth: 4,
            deadline: std::time::Duration::from_secs(2),
        }
    }
}

impl QueryLimits {
    /// Sets [`QueryLimits::max_parameter_bytes`].
    #[must_use]
    pub fn with_max_parameter_bytes(mut self, bytes: usize) -> Self {
        self.max_parameter_bytes = bytes;
        self
    }

    /// Sets [`QueryLimits::max_terms`].
    #[must_use]
    pub fn with_max_terms(mut self, terms: usize) -> Self {
        self.max_terms = terms;
        self
    }

    /// Sets [`QueryLimits::max_in_values`].
    #[must_use]
    pub fn with_max_in_values(mut self, values: usize) -> Self {
        self.max_in_values = values;
        self
    }

    /// Sets [`QueryLimits::max_select_terms`].
    #[must_use]
    pub fn with_max_select_terms(mut self, terms: usize) -> Self {
        self.max_select_terms = terms;
        self
    }

    /// Sets [`QueryLimits::max_sort_keys`].
    #[must_use]
    pub fn with_max_sort_keys(mut self, keys: usize) -> Self {
        self.max_sort_keys = keys;
        self
    }

    /// Sets [`QueryLimits::max_search_terms`].
    #[must_use]
    pub fn with_max_search_terms(mut self, terms: usize) -> Self {
        self.max_search_terms = terms;
        self
    }

    /// Sets [`QueryLimits::max_depth`].
    #[must_use]
    pub fn with_max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// Sets [`QueryLimits::deadline`].
    #[must_use]
    pub fn with_deadline(mut self, deadline: std::time::Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Checks a parsed query against the count and depth budgets.
    fn check(&self, query: &Query) -> Result<()> {
        fn over(what: &str, count: usize, limit: usize) -> Result<()> {
            if count > limit { Err(Error::limit(what, limit)) } else { Ok(()) }
        }
        if let Some(clause) = &query.where_clause {
            let (mut terms, mut depth) = (0, 0);
            where_counts(clause, 1, &mut terms, &mut depth, self.max_in_values)?;
            over("terms of oslc.where", terms, self.max_terms)?;
            over("nesting of oslc.where", depth, self.max_depth)?;
        }
        if let Some(select) = &query.select {
            let (mut terms, mut depth) = (0, 0);
            select_counts(select, 1, &mut terms, &mut depth);
            over("properties of oslc.select", terms, self.max_select_terms)?;
            over("nesting of oslc.select", depth, self.max_depth)?;
        }
        let (mut keys, mut depth) = (0, 0);
        sort_counts(&query.order_by, 1, &mut keys, &mut depth);
        over("keys of oslc.orderBy", keys, self.max_sort_keys)?;
        over("nesting of oslc.orderBy", depth, self.max_depth)?;
        over("terms of oslc.searchTerms", query.search_terms.len(), self.max_search_terms)
    }
}

fn where_counts(
    clause: &CompoundTerm,
    level: usize,
    terms: &mut usize,
    depth: &mut usize,
    max_in: usize,
) -> Result<()> {
    *depth = (*depth).max(level);
    for term in &clause.0 {
        *terms += 1;
        match term {
            SimpleTerm::In { values, .. } if values.len() > max_in => {
                return Err(Error::limit("values of an `in` list of oslc.where", max_in));
            }
            SimpleTerm::Scoped { terms: nested, .. } => where_counts(nested, level + 1, terms, depth, max_in)?,
            _ => {}
        }
    }
    Ok(())
}

fn select_counts(select: &[SelectTerm], level: usize, terms: &mut usize, depth: &mut usize) {
    *depth = (*depth).max(level);
    for term in select {
        *terms += 1;
        if let Some(nested) = &term.nested {
            select_counts(nested, level + 1, terms, depth);
        }
    }
}

fn sort_counts(order: &[SortTerm], level: usize, keys: &mut usize, depth: &mut usize) {
    if !order.is_empty() {
        *depth = (*depth).max(level);
    }
    for term in order {
        match term {
            SortTerm::Key { .. } => *keys += 1,
            SortTerm::Scoped { terms, .. } => sort_counts(terms, level + 1, keys, depth),
        }
    }
}

/// The name of the (non-OSLC) parameter that carries a page's position in the next-page links this crate makes.
pub const PAGE_TOKEN_PARAM: &str = "_page";

/// The OSLC query parameters of one request, parsed.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct Query {
    /// The prefixes in force: the service's, plus those of `oslc.prefix`.
    pub prefixes: Prefixes,
    /// `oslc.where`
    pub where_clause: Option<CompoundTerm>,
    /// `oslc.select`
    pub select: Option<Vec<SelectTerm>>,
    /// `oslc.orderBy`
    pub order_by: Vec<SortTerm>,
    /// `oslc.searchTerms`
    pub search_terms: Vec<String>,
    /// `oslc.paging=true`
    pub paging: bool,
    /// `oslc.pageSize`
    pub page_size: Option<usize>,
    /// Where the requested page starts (from a next-page link).
    pub page_token: Option<String>,
}

impl Query {
    /// Parses the OSLC query parameters among `params` (other parameters are ignored), with `prefixes` as the
    /// defaults that `oslc.prefix` adds to, within [`QueryLimits::default`].
    ///
    /// # Errors
    /// [`Error::InvalidQuery`] naming the parameter and the character position of the first error;
    /// [`Error::LimitExceeded`] for a query over a budget.
    pub fn from_params<K: AsRef<str>, V: AsRef<str>>(
        params: impl IntoIterator<Item = (K, V)>,
        prefixes: &Prefixes,
    ) -> Result<Self> {
        Self::from_params_with_limits(params, prefixes, &QueryLimits::default())
    }

    /// [`Query::from_params`] within `limits`.
    ///
    /// # Errors
    /// As [`Query::from_params`].
    pub fn from_params_with_limits<K: AsRef<str>, V: AsRef<str>>(
        params: impl IntoIterator<Item = (K, V)>,
        prefixes: &Prefixes,
        limits: &QueryLimits,
    ) -> Result<Self> {
        let params: Vec<(K, V)> = params.into_iter().collect();
        for (name, value) in &params {
            let name = name.as_ref();
            if name.starts_with("oslc.") && value.as_ref().len() > limits.max_parameter_bytes {
                return Err(Error::limit(format!("bytes of {name}"), limits.max_parameter_bytes));
            }
        }
        let get = |name: &str| params.iter().find(|(k, _)| k.as_ref() == name).map(|(_, v)| v.as_ref());
        let mut query = Self { prefixes: prefixes.clone(), ..Self::default() };
        if let Some(text) = get("oslc.prefix") {
            let empty = Prefixes::new();
            for (prefix, iri) in Parser::new("oslc.prefix", text, &empty).all(Parser::prefix_definitions)? {
                query.prefixes.insert(prefix, iri.into_string());
            }
        }
        let prefixes = &query.prefixes;
        let where_clause = get("oslc.where").map(|t| Parser::new("oslc.where", t, prefixes).all(Parser::compound_term));
        // `oslc.properties` (Core 3.0 Selective Properties, a MUST of CM 3.0) selects like `oslc.select` when the
        // query has no `oslc.select` of its own.
        let select = match get("oslc.select") {
            Some(t) => Some(Parser::new("oslc.select", t, prefixes).all(Parser::select_terms)),
            None => {
                get("oslc.properties").map(|t| Parser::new("oslc.properties", t, prefixes).all(Parser::select_terms))
            }
        };
        let order_by = get("oslc.orderBy").map(|t| Parser::new("oslc.orderBy", t, prefixes).all(Parser::sort_terms));
        let search =
            get("oslc.searchTerms").map(|t| Parser::new("oslc.searchTerms", t, prefixes).all(Parser::search_terms));
        query.where_clause = where_clause.transpose()?;
        query.select = select.transpose()?;
        query.order_by = order_by.transpose()?.unwrap_or_default();
        query.search_terms = search.transpose()?.unwrap_or_default();
        if let Some(paging) = get("oslc.paging") {
            query.paging = match paging {
                "true" => true,
                "false" => false,
                _ => return Err(invalid("oslc.paging", "expected true or false")),
            };
        }
        if let Some(size) = get("oslc.pageSize") {
            let size: usize =
                size.trim().parse().map_err(|_| invalid("oslc.pageSize", "expected a positive integer"))?;
            if size == 0 {
                return Err(invalid("oslc.pageSize", "expected a positive integer"));
            }
            query.page_size = Some(size);
        }
        query.page_token = get(PAGE_TOKEN_PARAM).map(str::to_owned);
        limits.check(&query)?;
        Ok(query)
    }

    /// Whether the query filters or scores members (`oslc.where` or `oslc.searchTerms`).
    #[must_use]
    pub fn filters(&self) -> bool {
        self.where_clause.is_some() || !self.search_terms.is_empty()
    }

    /// The query parameters that reproduce this query (prefixes as given by `oslc.prefix` are not repeated: names
    /// print with the prefixes they were parsed with, which the service or the request defines).
    #[must_use]
    pub fn to_params(&self) -> Vec<(&'static str, String)> {
        let mut params = Vec::new();
        if let Some(w) = &self.where_clause {
            params.push(("oslc.where", w.to_string()));
        }
        if let Some(s) = &self.select {
            params.push(("oslc.select", SelectList(s).to_string()));
        }
        if !self.order_by.is_empty() {
            params.push(("oslc.orderBy", SortList(&self.order_by).to_string()));
        }
        if !self.search_terms.is_empty() {
            params.push(("oslc.searchTerms", SearchTermList(&self.search_terms).to_string()));
        }
        params
    }
}

fn invalid(parameter: &str, message: &str) -> Error {
    Error::InvalidQuery { parameter: parameter.to_owned(), position: 0, message: message.to_owned() }
}
