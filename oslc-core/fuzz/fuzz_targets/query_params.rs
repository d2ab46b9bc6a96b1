//! Fuzzes the OSLC Query parameter parsers: any bytes, split into parameter values, must parse or fail with an
//! error, never panic; whatever parses must print and parse back to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oslc_core::query::{Query, QueryLimits};
use oslc_core::vocab::standard_prefixes;

const NAMES: [&str; 7] =
    ["oslc.where", "oslc.select", "oslc.orderBy", "oslc.searchTerms", "oslc.prefix", "oslc.pageSize", "_page"];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let params: Vec<(&str, &str)> = text.split('\u{1}').zip(NAMES).map(|(value, name)| (name, value)).collect();
    let prefixes = standard_prefixes();
    if let Ok(query) = Query::from_params(params, &prefixes) {
        let printed = query.to_params();
        // Printing may escape more than the input did: read it back without the size budgets.
        let roomy = QueryLimits::default().with_max_parameter_bytes(usize::MAX);
        let again = Query::from_params_with_limits(printed.iter().map(|(k, v)| (*k, v.as_str())), &query.prefixes, &roomy)
            .unwrap_or_else(|e| panic!("printed query does not parse: {e}: {printed:?}"));
        assert_eq!(again.where_clause, query.where_clause);
        assert_eq!(again.select, query.select);
        assert_eq!(again.order_by, query.order_by);
        assert_eq!(again.search_terms, query.search_terms);
    }
});
