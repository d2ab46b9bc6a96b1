//! OSLC Events on top of `oslc-core`: the event model, a durable event log, a TRS 2.0 change log and Kafka delivery.
//!
//! This crate is being built up; today it names the OSLC Events vocabulary.
//!
//! ```
//! assert_eq!(oslc_events::vocab::Event.as_str(), "http://open-services.net/ns/events#Event");
//! ```

/// The OSLC Events namespace used by the SmartDevOps tools (`http://open-services.net/ns/events#`).
#[allow(non_upper_case_globals)]
pub mod vocab {
    use oxrdf::NamedNodeRef;

    /// The namespace IRI.
    pub const NS: &str = "http://open-services.net/ns/events#";
    /// The prefix conventionally bound to [`NS`].
    pub const PREFIX: &str = "oslc_events";
    /// `oslc_events:Event`, the class of every event.
    pub const Event: NamedNodeRef<'static> = NamedNodeRef::new_unchecked("http://open-services.net/ns/events#Event");
}
