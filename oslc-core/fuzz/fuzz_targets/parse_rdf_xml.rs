//! Fuzzes reading a request body in this syntax within the default budgets: any bytes must parse or fail with an
//! error, never panic, overflow the stack or take unbounded memory; what parses must serialize again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oslc_core::rdf::{self, ParseLimits, RdfFormat};

fuzz_target!(|data: &[u8]| {
    let format: RdfFormat = RdfFormat::RdfXml;
    if let Ok(graph) = rdf::parse_with_limits(data, format, "http://fuzz.example/r", &ParseLimits::default()) {
        assert!(graph.len() <= ParseLimits::default().max_triples);
        rdf::serialize(&graph, RdfFormat::Turtle, &oslc_core::vocab::standard_prefixes()).expect("serializes");
    }
});
