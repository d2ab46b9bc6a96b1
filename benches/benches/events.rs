//! OSLC Events: durable append throughput (redb, batched), event → Turtle, and a TRS change-log segment served
//! from a log of 1,000 and of 1,000,000 events (targets: ≥ 20,000 events/s; the 1M page within 2× of the 1k one).
//! `scripts/bench.sh` also times the same serialization with Python rdflib and prints the ratio.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use oslc_core::rdf::RdfFormat;
use oslc_events::trs::Document;
use oslc_events::{ChangeKind, Event, EventLog, RedbEventLog, StaticBase, Trs};
use oxrdf::NamedNode;

/// The event the st2 adapter publishes when a rule is disabled: the event node and the rule's state.
pub fn sample_event(n: usize) -> Event {
    let rule = benches::change_request(n);
    let mut event = Event::new(ChangeKind::Modification, rule.subject().into_owned())
        .with_qualifier(NamedNode::new_unchecked("https://w3id.org/st2-oslc/ns#RuleDisabled"))
        .with_service_provider(NamedNode::new_unchecked("http://bench.test/serviceProviders/1"))
        .with_created("2026-11-26T10:00:00.123Z".parse().unwrap())
        .with_state(rule.graph().clone());
    event.order = std::num::NonZeroU64::new(n as u64 + 1);
    event
}

fn events(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();

    let mut group = c.benchmark_group("events");
    group.throughput(Throughput::Elements(1000));
    let log = RedbEventLog::open(dir.path().join("append.redb")).unwrap();
    group.bench_function("append 1000 durably (redb, one transaction)", |b| {
        b.iter_batched(
            || {
                (0..1000)
                    .map(|n| {
                        Event::new(
                            ChangeKind::Modification,
                            NamedNode::new_unchecked(format!("http://bench.test/r/{}", n % 100)),
                        )
                    })
                    .collect::<Vec<_>>()
            },
            |batch| runtime.block_on(log.append(batch, Vec::new())).unwrap(),
            BatchSize::LargeInput,
        )
    });
    group.throughput(Throughput::Elements(1));
    let event = sample_event(7);
    group.bench_function("event to Turtle", |b| b.iter(|| black_box(&event).to_bytes(RdfFormat::Turtle).unwrap()));
    group.finish();

    let mut group = c.benchmark_group("trs");
    // Under `cargo test` (no --bench) the benchmarks run once to prove they work: skip building the 1M log there.
    let sizes: &[u64] = if std::env::args().any(|a| a == "--bench") { &[1_000, 1_000_000] } else { &[1_000] };
    for &size in sizes {
        let log = Arc::new(RedbEventLog::open(dir.path().join(format!("trs-{size}.redb"))).unwrap());
        runtime.block_on(async {
            let mut n = 0;
            while n < size {
                let batch: Vec<Event> = (n..(n + 10_000).min(size))
                    .map(|i| {
                        Event::new(
                            ChangeKind::Modification,
                            NamedNode::new_unchecked(format!("http://bench.test/r/{}", i % 1000)),
                        )
                    })
                    .collect();
                n += batch.len() as u64;
                log.append(batch, Vec::new()).await.unwrap();
            }
        });
        let trs = Trs::new("http://bench.test/trs", log, Arc::new(StaticBase::default()));
        let newest_full = size / trs.segment_size() - 2;
        group.bench_function(format!("change log segment of 100, log of {size}"), |b| {
            b.iter(|| runtime.block_on(trs.document(Document::Segment(black_box(newest_full)))).unwrap())
        });
        group.bench_function(format!("tracked resource set, log of {size}"), |b| {
            b.iter(|| runtime.block_on(trs.document(Document::TrackedResourceSet)).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, events);
criterion_main!(benches);
