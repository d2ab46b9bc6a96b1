//! OSLC Query: parse + evaluate `oslc.where` with two terms + `oslc.select` + one page of 100 over 10,000
//! resources (target: under 5 ms), and the parser alone.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use oslc_core::Resource;
use oslc_core::oxrdf::Graph;
use oslc_core::query::{Evaluation, Query, evaluate, project};
use oslc_core::rdf::Prefixes;
use oslc_core::vocab::standard_prefixes;

const PARAMS: [(&str, &str); 4] = [
    ("oslc.where", "oslc_cm:severity=\"high\" and dcterms:created>\"2026-06-01T00:00:00Z\"^^xsd:dateTime"),
    ("oslc.select", "dcterms:title,oslc_cm:status,oslc_cm:priority{dcterms:title}"),
    ("oslc.paging", "true"),
    ("oslc.pageSize", "100"),
];

fn run(resources: Vec<Resource>, prefixes: &Prefixes) -> Graph {
    let query = Query::from_params(PARAMS, prefixes).unwrap_or_default();
    let page = evaluate(&query, resources, Evaluation::Filter, query.page_size);
    let mut graph = Graph::new();
    if let (Ok(page), Some(select)) = (&page, &query.select) {
        for member in &page.members {
            project(&member.resource, select, &mut graph);
        }
    }
    graph
}

fn query(c: &mut Criterion) {
    let prefixes = standard_prefixes();
    let resources: Vec<_> = (0..10_000).map(benches::change_request).collect();
    c.bench_function("query/parse", |b| b.iter(|| Query::from_params(black_box(PARAMS), &prefixes)));
    // Resources as a provider that keeps them hands them out: their property index is built once and shared.
    c.bench_function("query/where2+select+page100 over 10k", |b| {
        b.iter_batched(|| resources.clone(), |resources| run(resources, &prefixes), BatchSize::LargeInput)
    });
    // Resources built fresh for the request: the index is built during the query.
    c.bench_function("query/where2+select+page100 over 10k (fresh resources)", |b| {
        b.iter_batched(
            || resources.iter().map(|r| Resource::from_graph(r.subject().into_owned(), r.graph().clone())).collect(),
            |resources| run(resources, &prefixes),
            BatchSize::LargeInput,
        )
    });
}

criterion_group!(benches, query);
criterion_main!(benches);
