//! Resource → Turtle / RDF-XML / JSON-LD serialization, parsing, ETag computation and content negotiation.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
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

/// Bulk serialization in MB/s (issue "Serve at the speed of the wire": ≥ 100 MB/s for Turtle and N-Triples,
/// ≥ 50 MB/s for RDF/XML and JSON-LD): 1,000 change requests, each with a nested blank node, in one document.
fn throughput(c: &mut Criterion) {
    let resources: Vec<_> = (0..1000).map(benches::change_request).collect();
    let triples: Vec<_> = resources.iter().flat_map(|r| r.triples()).collect();
    let prefixes = oslc_core::vocab::standard_prefixes();
    let mut group = c.benchmark_group("collection_of_1000");
    for format in FORMATS {
        let bytes = rdf::serialize_triples(triples.iter().copied(), format, &prefixes).unwrap_or_default();
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::new("serialize", format.name()), &format, |b, format| {
            b.iter(|| rdf::serialize_triples(black_box(triples.iter().copied()), *format, &prefixes));
        });
    }
    group.finish();
}

criterion_group!(benches, serialization, throughput);
criterion_main!(benches);
