//! Fuzzes reading an OSLC Event from the bytes of a Kafka message, in the syntax its `content-type` header names
//! (the first byte picks one here): any bytes must give an event or an error, never a panic or an abort.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oslc_core::rdf::{FORMATS, RdfFormat};
use oslc_events::Event;

fuzz_target!(|data: &[u8]| {
    let Some((selector, payload)) = data.split_first() else { return };
    let format: RdfFormat = FORMATS[usize::from(*selector) % FORMATS.len()];
    if let Ok(event) = Event::from_bytes(payload, format) {
        // What was read writes back, and reads back as the same event.
        let bytes = event.to_bytes(RdfFormat::NTriples).expect("serializes");
        let again = Event::from_bytes(&bytes, RdfFormat::NTriples).expect("reads back");
        assert_eq!(again.id, event.id);
    }
});
