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
pub use eval::{Evaluation, Member, QueryPage, evaluate, project};

use parse::Parser;

use crate::rdf::Prefixes;
use crate::{Error, Result};

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
    /// defaults that `oslc.prefix` adds to.
    ///
    /// # Errors
    /// [`Error::InvalidQuery`] naming the parameter and the character position of the first error.
    pub fn from_params<K: AsRef<str>, V: AsRef<str>>(
        params: impl IntoIterator<Item = (K, V)>,
        prefixes: &Prefixes,
    ) -> Result<Self> {
        let params: Vec<(K, V)> = params.into_iter().collect();
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
        let select = get("oslc.select").map(|t| Parser::new("oslc.select", t, prefixes).all(Parser::select_terms));
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
