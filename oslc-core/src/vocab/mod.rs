//! Vocabulary terms as `pub const` [`NamedNodeRef`](oxrdf::NamedNodeRef)s.
//!
//! The OSLC namespaces (`oslc`, `oslc_cm`, `oslc_auto`, `oslc_actions`, `trs`) list every term their OASIS vocabulary
//! file defines; `rdf`, `rdfs`, `xsd`, `dcterms`, `ldp`, `foaf` and `http` list the terms OSLC uses. Constants are named
//! exactly like the term's local name (`-` becomes `_`; `type` is `r#type`), because OSLC vocabularies define pairs
//! that differ only in case, such as the class `oslc:ServiceProvider` and the property `oslc:serviceProvider`.
//!
//! ```
//! use oslc_core::vocab::{oslc, rdf};
//!
//! assert_eq!(oslc::ServiceProvider.as_str(), "http://open-services.net/ns/core#ServiceProvider");
//! assert_eq!(oslc::serviceProvider.as_str(), "http://open-services.net/ns/core#serviceProvider");
//! assert_eq!(oslc::Exactly_one.as_str(), "http://open-services.net/ns/core#Exactly-one");
//! assert_eq!(rdf::r#type.as_str(), "http://www.w3.org/1999/02/22-rdf-syntax-ns#type");
//! ```

use crate::rdf::Prefixes;

macro_rules! namespace {
    ($(#[$doc:meta])* $module:ident, $prefix:literal, $ns:literal, [$($term:ident = $local:literal),* $(,)?]) => {
        $(#[$doc])*
        #[allow(non_upper_case_globals)]
        pub mod $module {
            use oxrdf::NamedNodeRef;

            /// The namespace IRI.
            pub const NS: &str = $ns;
            /// The prefix OSLC documents conventionally bind to [`NS`].
            pub const PREFIX: &str = $prefix;

            $(
                #[doc = concat!("`", $prefix, ":", $local, "` (`", $ns, $local, "`)")]
                pub const $term: NamedNodeRef<'static> = NamedNodeRef::new_unchecked(concat!($ns, $local));
            )*
        }
    };
}

include!("terms.rs");

/// The prefixes of every namespace in this module, for serializers and for `oslc.prefix` defaults.
#[must_use]
pub fn standard_prefixes() -> Prefixes {
    let mut prefixes = Prefixes::new();
    for (prefix, ns) in [
        (rdf::PREFIX, rdf::NS),
        (rdfs::PREFIX, rdfs::NS),
        (xsd::PREFIX, xsd::NS),
        (dcterms::PREFIX, dcterms::NS),
        (ldp::PREFIX, ldp::NS),
        (foaf::PREFIX, foaf::NS),
        (http::PREFIX, http::NS),
        (oslc::PREFIX, oslc::NS),
        (oslc_cm::PREFIX, oslc_cm::NS),
        (oslc_auto::PREFIX, oslc_auto::NS),
        (oslc_actions::PREFIX, oslc_actions::NS),
        (trs::PREFIX, trs::NS),
    ] {
        prefixes.insert_static(prefix, ns);
    }
    // JSON-LD terms for the OSLC Core, LDP and Dublin Core properties every OSLC document uses.
    use crate::rdf::{Coercion, JsonLdTerm};
    let term = |name: &str, coercion: Coercion| JsonLdTerm { name: name.to_owned(), coercion };
    let date_time = || Coercion::Datatype(xsd::dateTime.as_str().to_owned());
    let terms = [
        (dcterms::title, term("title", Coercion::None)),
        (dcterms::description, term("description", Coercion::None)),
        (dcterms::identifier, term("identifier", Coercion::None)),
        (dcterms::created, term("created", date_time())),
        (dcterms::modified, term("modified", date_time())),
        (dcterms::creator, term("creator", Coercion::Id)),
        (dcterms::contributor, term("contributor", Coercion::Id)),
        (dcterms::references, term("references", Coercion::Id)),
        (dcterms::publisher, term("publisher", Coercion::None)),
        (oslc::serviceProvider, term("serviceProvider", Coercion::Id)),
        (oslc::service, term("service", Coercion::None)),
        (oslc::queryCapability, term("queryCapability", Coercion::None)),
        (oslc::creationFactory, term("creationFactory", Coercion::None)),
        (oslc::queryBase, term("queryBase", Coercion::Id)),
        (oslc::creation, term("creation", Coercion::Id)),
        (oslc::resourceShape, term("resourceShape", Coercion::Id)),
        (oslc::resourceType, term("resourceType", Coercion::Id)),
        (oslc::domain, term("domain", Coercion::Id)),
        (oslc::usage, term("usage", Coercion::Id)),
        (oslc::label, term("label", Coercion::None)),
        (oslc::shortTitle, term("shortTitle", Coercion::None)),
        (oslc::instanceShape, term("instanceShape", Coercion::Id)),
        (oslc::totalCount, term("totalCount", Coercion::None)),
        (oslc::nextPage, term("nextPage", Coercion::Id)),
        (crate::actions::OSLC_ACTION, term("action", Coercion::Id)),
        (crate::actions::OSLC_BINDING, term("binding", Coercion::Id)),
        (oslc::prefixDefinition, term("prefixDefinition", Coercion::None)),
        (oslc::prefix, term("prefix", Coercion::None)),
        (oslc::prefixBase, term("prefixBase", Coercion::Id)),
        (oslc::statusCode, term("statusCode", Coercion::None)),
        (oslc::message, term("message", Coercion::None)),
        (rdfs::member, term("member", Coercion::Id)),
        (ldp::contains, term("contains", Coercion::Id)),
        (ldp::membershipResource, term("membershipResource", Coercion::Id)),
        (ldp::hasMemberRelation, term("hasMemberRelation", Coercion::Id)),
    ];
    for (iri, term) in terms {
        prefixes.insert_term(iri.as_str(), term);
    }
    prefixes
}
