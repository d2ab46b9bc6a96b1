//! Resource → Turtle / RDF-XML / JSON-LD serialization, parsing, ETag computation and content negotiation.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use oslc_core::rdf::{self, FORMATS};

fn serialization(c: &mut Criterion) {
    let resource = benches::change_request(7);
    let prefixes = oslc_core::vocab::standard_prefixes();
    let mut group = c.benchmark_group("resource");
    for format in FORMATS {
        group.bench_with_input(BenchmarkId::new("serialize", format.name()), &format, |b, format| {
            b.iter(|| rdf::serialize(black_box(resource.graph()), *format, &prefixes));
        });
        let bytes = rdf::serialize(resource.graph(), format, &prefixes).unwrap_or_default();
        group.bench_with_input(BenchmarkId::new("parse", format.name()), &format, |b, format| {
            b.iter(|| rdf::parse(black_box(&bytes), *format, "http://bench.test/"));
        });
    }
    group.bench_function("etag", |b| b.iter(|| black_box(&resource).etag()));
    group.finish();
    c.bench_function("negotiate", |b| {
        b.iter(|| {
            rdf::negotiate(black_box(Some("text/html, application/xhtml+xml, application/rdf+xml;q=0.9, */*;q=0.8")))
        })
    });
}

criterion_group!(benches, serialization);
criterion_main!(benches);
