//! OSLC Query: parse + evaluate `oslc.where` with two terms + `oslc.select` + one page of 100 over 10,000
//! resources (target: under 5 ms), and the parser alone.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use oslc_core::query::{Evaluation, Query, evaluate, project};
use oslc_core::vocab::standard_prefixes;

const PARAMS: [(&str, &str); 4] = [
    ("oslc.where", "oslc_cm:severity=\"high\" and dcterms:created>\"2026-06-01T00:00:00Z\"^^xsd:dateTime"),
    ("oslc.select", "dcterms:title,oslc_cm:status,oslc_cm:priority{dcterms:title}"),
    ("oslc.paging", "true"),
    ("oslc.pageSize", "100"),
];

fn query(c: &mut Criterion) {
    let prefixes = standard_prefixes();
    let resources: Vec<_> = (0..10_000).map(benches::change_request).collect();
    c.bench_function("query/parse", |b| b.iter(|| Query::from_params(black_box(PARAMS), &prefixes)));
    c.bench_function("query/where2+select+page100 over 10k", |b| {
        b.iter_batched(
            || resources.clone(),
            |resources| {
                let query = Query::from_params(PARAMS, &prefixes).unwrap_or_default();
                let page = evaluate(&query, resources, Evaluation::Filter, query.page_size);
                let mut graph = oslc_core::oxrdf::Graph::new();
                if let (Ok(page), Some(select)) = (&page, &query.select) {
                    for member in &page.members {
                        project(member.resource.graph(), member.resource.subject().into(), select, &mut graph);
                    }
                }
                graph
            },
            BatchSize::LargeInput,
        )
    });
}

criterion_group!(benches, query);
criterion_main!(benches);
