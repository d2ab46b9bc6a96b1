//! Every discovery document the library produces has each property that the OASIS `core-shapes.ttl` marks
//! Exactly-one or One-or-many, with the right count. The shapes are read from the OASIS file itself.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use oslc_core::discovery::{Dialog, Occurs, Property, ResourceShape, Service, ServiceProvider};
use oslc_core::oxrdf::{Graph, NamedNode, NamedOrBlankNodeRef, TermRef};
use oslc_core::rdf::{self, RdfFormat};
use oslc_core::vocab::{dcterms, oslc, rdf as rdf_ns};
use oslc_core::{Error, ToGraph};

/// class IRI → [(property IRI, what `select` takes from its shape property)] for the properties of each OASIS
/// `core-shapes.ttl` shape that `select` keeps.
fn shape_properties(
    select: impl Fn(&Graph, NamedOrBlankNodeRef<'_>) -> Option<String>,
) -> BTreeMap<String, Vec<(String, String)>> {
    let shapes = rdf::parse(
        include_bytes!("data/core-shapes.ttl"),
        RdfFormat::Turtle,
        "http://open-services.net/ns/core/shapes/3.0",
    )
    .unwrap();
    let mut out = BTreeMap::new();
    for shape in shapes.subjects_for_predicate_object(rdf_ns::r#type, oslc::ResourceShape) {
        for class in shapes.objects_for_subject_predicate(shape, oslc::describes) {
            let TermRef::NamedNode(class) = class else { continue };
            let mut kept = Vec::new();
            for property in shapes.objects_for_subject_predicate(shape, oslc::property) {
                let property: NamedOrBlankNodeRef<'_> = match property {
                    TermRef::BlankNode(b) => b.into(),
                    TermRef::NamedNode(n) => n.into(),
                    _ => continue,
                };
                let Some(TermRef::NamedNode(definition)) =
                    shapes.object_for_subject_predicate(property, oslc::propertyDefinition)
                else {
                    panic!("{property} has no oslc:propertyDefinition")
                };
                if let Some(value) = select(&shapes, property) {
                    kept.push((definition.as_str().to_owned(), value));
                }
            }
            out.insert(class.as_str().to_owned(), kept);
        }
    }
    out
}

/// class IRI → [(property IRI, occurs IRI)] for the Exactly-one and One-or-many properties of its shape.
fn mandatory_properties() -> BTreeMap<String, Vec<(String, String)>> {
    shape_properties(|shapes, property| match shapes.object_for_subject_predicate(property, oslc::occurs) {
        Some(TermRef::NamedNode(occurs)) if occurs == oslc::Exactly_one || occurs == oslc::One_or_many => {
            Some(occurs.as_str().to_owned())
        }
        Some(TermRef::NamedNode(_)) => None,
        other => panic!("{property} has oslc:occurs {other:?}"),
    })
}

/// class IRI → [(property IRI, datatype IRI)] for the properties whose shape gives a literal value type
/// (`xsd:*` or `rdf:XMLLiteral`).
fn literal_value_types() -> BTreeMap<String, Vec<(String, String)>> {
    shape_properties(|shapes, property| match shapes.object_for_subject_predicate(property, oslc::valueType) {
        Some(TermRef::NamedNode(t)) if t.as_str().starts_with(oslc_core::vocab::xsd::NS) || t == rdf_ns::XMLLiteral => {
            Some(t.as_str().to_owned())
        }
        _ => None,
    })
}

/// Checks that every literal of a typed node of `graph` has the datatype its class's shape gives (point 5:
/// titles and descriptions are `rdf:XMLLiteral`); returns how many literals it checked.
fn check_value_types(graph: &Graph, types: &BTreeMap<String, Vec<(String, String)>>, document: &str) -> usize {
    let mut checked = 0;
    for typing in graph.triples_for_predicate(rdf_ns::r#type) {
        let TermRef::NamedNode(class) = typing.object else { continue };
        let Some(typed) = types.get(class.as_str()) else { continue };
        for (property, value_type) in typed {
            let predicate = NamedNode::new_unchecked(property.as_str());
            for value in graph.objects_for_subject_predicate(typing.subject, predicate.as_ref()) {
                let TermRef::Literal(literal) = value else { continue };
                assert_eq!(
                    literal.datatype().as_str(),
                    value_type,
                    "{document}: {property} of {} ({class}) is {literal}; the shape says {value_type}",
                    typing.subject
                );
                checked += 1;
            }
        }
    }
    checked
}

/// Checks every typed node of `graph` against the shapes; returns the classes it checked.
fn check(graph: &Graph, shapes: &BTreeMap<String, Vec<(String, String)>>, document: &str) -> BTreeSet<String> {
    let mut checked = BTreeSet::new();
    for typing in graph.triples_for_predicate(rdf_ns::r#type) {
        let TermRef::NamedNode(class) = typing.object else { continue };
        let Some(mandatory) = shapes.get(class.as_str()) else { continue };
        for (property, occurs) in mandatory {
            let count = graph
                .objects_for_subject_predicate(typing.subject, NamedNode::new_unchecked(property.as_str()).as_ref())
                .count();
            let ok = if occurs.ends_with("Exactly-one") { count == 1 } else { count >= 1 };
            assert!(ok, "{document}: {} ({class}) has {count} {property}, shape says {occurs}", typing.subject);
        }
        checked.insert(class.as_str().to_owned());
    }
    checked
}

#[tokio::test]
async fn every_discovery_document_has_its_mandatory_properties() {
    let shapes = mandatory_properties();
    assert!(shapes[oslc::QueryCapability.as_str()].len() == 2, "the shape file was read: {shapes:?}");
    let types = literal_value_types();
    let (app, _) = app();
    let mut checked = BTreeSet::new();
    let mut literals = 0;
    for path in ["/serviceProviders/catalog", "/serviceProviders/1", "/resourceShapes/1/changeRequests"] {
        for format in rdf::FORMATS {
            let reply = get(&app, &format!("{BASE}{path}"), format.media_type()).await;
            assert_eq!(reply.status, 200, "{path}");
            checked.extend(check(&reply.graph(BASE), &shapes, path));
            literals += check_value_types(&reply.graph(BASE), &types, path);
        }
    }
    assert!(literals > 20, "titles and descriptions were checked: {literals}");
    // An error body, and a dialog, which the server kit does not produce but the builders do.
    let error = get(&app, &format!("{CRS}/missing"), "text/turtle").await;
    assert_eq!(error.status, 404);
    checked.extend(check(&error.graph(BASE), &shapes, "404"));
    checked.extend(check(&Error::not_found("x").to_graph(), &shapes, "Error::to_graph"));
    let about = NamedNode::new("http://tracker.test/sp").unwrap();
    let with_dialog = ServiceProvider::new(about.clone(), "With a dialog").with_service(
        Service::new(NamedNode::new(oslc::NS).unwrap()).with_selection_dialog(
            Dialog::new("Pick", NamedNode::new("http://tracker.test/pick").unwrap()).with_hints("400px", "300px"),
        ),
    );
    checked.extend(check(with_dialog.to_resource().graph(), &shapes, "dialog"));
    let dialog_literals = check_value_types(with_dialog.to_resource().graph(), &types, "dialog");
    assert!(dialog_literals >= 2, "{dialog_literals}");
    let shape = ResourceShape::new(about.clone(), "Shape").with_property(
        Property::new("title", dcterms::title.into_owned(), Occurs::ExactlyOne).with_range(oslc::Any.into_owned()),
    );
    let mut graph = Graph::new();
    shape.add_to_graph(about.as_ref().into(), &mut graph);
    checked.extend(check(&graph, &shapes, "shape"));

    for class in [
        oslc::ServiceProviderCatalog,
        oslc::ServiceProvider,
        oslc::Service,
        oslc::CreationFactory,
        oslc::QueryCapability,
        oslc::Dialog,
        oslc::ResourceShape,
        oslc::Property,
        oslc::PrefixDefinition,
        oslc::Publisher,
        oslc::Error,
    ] {
        assert!(checked.contains(class.as_str()), "no {class} was checked; checked {checked:?}");
    }
}
