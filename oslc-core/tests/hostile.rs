//! Hostile request bodies and queries (issue "Hostile input and faults", points 1–4): each is refused with a
//! 400 `oslc:Error`, changes nothing, and leaves the server answering.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use axum::body::Body;
use common::*;
use oslc_core::rdf::{self, RdfFormat};
use oslc_core::vocab::{dcterms, oslc, rdf as rdf_ns};
use oslc_core::{InMemoryProvider, Resource, ResourceProvider, oxrdf::Literal, oxrdf::NamedNode};

/// The `oslc:Error` message of a reply, asserting its status.
fn refused(reply: &Reply, status: u16) -> String {
    assert_eq!(reply.status, status, "{}", reply.text());
    let graph = reply.graph(BASE);
    let node = graph.subject_for_predicate_object(rdf_ns::r#type, oslc::Error).expect("an oslc:Error");
    graph.object_for_subject_predicate(node, oslc::message).map(|t| t.to_string()).unwrap_or_default()
}

async fn assert_nothing_created(provider: &InMemoryProvider) {
    let container = oslc_core::Container::new(NamedNode::new(CRS).unwrap());
    assert!(provider.list(&container).await.unwrap().is_empty(), "a refused body created something");
}

#[tokio::test]
async fn rdf_xml_entities_are_refused() {
    let (app, provider) = app();
    // "Billion laughs": ten levels of ten references, 10^9 copies of "lol" from under 1 KB.
    let mut body = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE rdf:RDF [\n<!ENTITY lol0 \"lol\">\n");
    for i in 1..10 {
        let refs: String = (0..10).map(|_| format!("&lol{};", i - 1)).collect();
        body.push_str(&format!("<!ENTITY lol{i} \"{refs}\">\n"));
    }
    body.push_str(
        "]>\n<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" \
         xmlns:dcterms=\"http://purl.org/dc/terms/\">\n<rdf:Description rdf:about=\"\">\
         <dcterms:title>&lol9;</dcterms:title></rdf:Description></rdf:RDF>\n",
    );
    assert!(body.len() < 1100);
    let message = refused(&post(&app, CRS, RdfFormat::RdfXml, body).await, 400);
    assert!(message.contains("document type declarations"), "{message}");
    assert_nothing_created(&provider).await;
}

#[tokio::test]
async fn deep_json_ld_is_refused_without_overflowing_a_stack() {
    let (app, provider) = app();
    let depth = 1000;
    let body = format!(
        "{}{{\"@id\": \"\", \"http://purl.org/dc/terms/title\": \"deep\"}}{}",
        "{\"http://e.com/p\": ".repeat(depth),
        "}".repeat(depth)
    );
    let message = refused(&post(&app, CRS, FORMATS_JSONLD, body).await, 400);
    assert!(message.contains("nesting depth"), "{message}");
    // Arrays count too, and a bracket inside a string does not.
    let arrays = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    refused(&post(&app, CRS, FORMATS_JSONLD, arrays).await, 400);
    let quoted = format!("{{\"@id\": \"\", \"http://purl.org/dc/terms/title\": \"{}\"}}", "[{".repeat(500));
    assert_eq!(post(&app, CRS, FORMATS_JSONLD, quoted).await.status, 201);
    let created = provider.list(&oslc_core::Container::new(NamedNode::new(CRS).unwrap())).await.unwrap();
    assert_eq!(created.len(), 1, "only the body with brackets inside a string");
}

const FORMATS_JSONLD: RdfFormat = rdf::FORMATS[1];

#[tokio::test]
async fn deep_turtle_and_huge_lists_are_refused() {
    let provider = Arc::new(InMemoryProvider::new());
    let app = app_with(provider.clone(), 1024 * 1024);
    let deep = format!("<> <http://e.com/p> {} 1 {} .", "[ <http://e.com/p> ".repeat(5000), "]".repeat(5000));
    let message = refused(&post(&app, CRS, RdfFormat::Turtle, deep).await, 400);
    assert!(message.contains("nesting depth"), "{message}");
    // A list of 150,000 numbers in under 1 MiB: 300,000 triples, stopped at the triple budget.
    let numbers: String = (0..150_000).map(|i| format!("{} ", i % 10)).collect();
    let list = format!("<> <http://e.com/p> ( {numbers}) .");
    assert!(list.len() < 1024 * 1024);
    let message = refused(&post(&app, CRS, RdfFormat::Turtle, list).await, 400);
    assert!(message.contains("triples exceeds the limit of 10000"), "{message}");
    // A literal over the budget, in N-Triples.
    let huge = format!("<{CRS}> <http://purl.org/dc/terms/title> \"{}\" .", "x".repeat(1024 * 1024 - 200));
    let limits = rdf::ParseLimits::default().with_max_literal_bytes(64 * 1024);
    let error = rdf::parse_with_limits(huge.as_bytes(), RdfFormat::NTriples, CRS, &limits).unwrap_err();
    assert_eq!(error.to_string(), "a literal's bytes exceeds the limit of 65536");
    assert_nothing_created(&provider).await;
}

fn seeded(count: usize) -> (axum::Router, Arc<InMemoryProvider>) {
    let provider = Arc::new(InMemoryProvider::new());
    for i in 1..=count {
        let iri = NamedNode::new(format!("{CRS}/{i}")).unwrap();
        let title = Literal::new_simple_literal(format!("CR {i}"));
        let mut resource = Resource::new(iri);
        resource.insert(dcterms::title, &title);
        resource.insert(dcterms::identifier, &Literal::from(i as i64));
        provider.insert(i.to_string(), resource);
    }
    (app_with(provider.clone(), 64 * 1024), provider)
}

fn query_url(params: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        query.append_pair(k, v);
    }
    format!("{CRS}?{}", query.finish())
}

#[tokio::test]
async fn expensive_queries_are_refused_before_evaluation() {
    let (app, _) = seeded(10);
    // 9,300 numbers in an `in` list: a 64 KB URL.
    let numbers: Vec<String> = (0..9300).map(|i| i.to_string()).collect();
    let where_in = format!("* in [{}]", numbers.join(","));
    let message = refused(&get(&app, &query_url(&[("oslc.where", &where_in)]), "text/turtle").await, 400);
    assert!(message.contains("bytes of oslc.where exceeds the limit of 8192"), "{message}");
    // 200 values fit in 8 KiB but not in the list budget.
    let where_in = format!("* in [{}]", numbers[..200].join(","));
    let message = refused(&get(&app, &query_url(&[("oslc.where", &where_in)]), "text/turtle").await, 400);
    assert!(message.contains("values of an `in` list"), "{message}");
    // 32 levels of nested wildcards.
    let select = format!("{}*{}", "*{".repeat(32), "}".repeat(32));
    let message = refused(&get(&app, &query_url(&[("oslc.select", &select)]), "text/turtle").await, 400);
    assert!(message.contains("nesting"), "{message}");
    let many_terms: Vec<String> = (0..40).map(|i| format!("dcterms:identifier!={i}")).collect();
    let message =
        refused(&get(&app, &query_url(&[("oslc.where", &many_terms.join(" and "))]), "text/turtle").await, 400);
    assert!(message.contains("terms of oslc.where exceeds the limit of 32"), "{message}");
    // Within the budgets, the same kinds of query are answered.
    let where_in = format!("dcterms:identifier in [{}]", numbers[..100].join(","));
    let reply = get(&app, &query_url(&[("oslc.where", &where_in)]), "text/turtle").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.graph(CRS).triples_for_predicate(oslc_core::vocab::rdfs::member).count(), 10);
}

#[tokio::test]
async fn an_unpaged_query_is_paged_at_the_maximum() {
    let (app, _) = seeded(1005);
    let reply = get(&app, CRS, "text/turtle").await;
    assert_eq!(reply.status, 200);
    let graph = reply.graph(CRS);
    assert_eq!(graph.triples_for_predicate(oslc_core::vocab::rdfs::member).count(), 1000);
    let info = graph.subject_for_predicate_object(rdf_ns::r#type, oslc::ResponseInfo).expect("a ResponseInfo");
    let next = graph.object_for_subject_predicate(info, oslc::nextPage).expect("a next page").to_string();
    let next = next.trim_matches(|c| c == '<' || c == '>');
    let reply = get(&app, next, "text/turtle").await;
    assert_eq!(reply.graph(CRS).triples_for_predicate(oslc_core::vocab::rdfs::member).count(), 5);
}

#[tokio::test]
async fn a_query_past_its_deadline_is_refused() {
    let provider = Arc::new(InMemoryProvider::new());
    for i in 1..=2000 {
        let mut resource = Resource::new(NamedNode::new(format!("{CRS}/{i}")).unwrap());
        resource.insert(dcterms::title, &Literal::new_simple_literal("x"));
        provider.insert(i.to_string(), resource);
    }
    let app = oslc_core::server::Server::builder(BASE)
        .unwrap()
        .with_query_limits(oslc_core::query::QueryLimits::default().with_deadline(std::time::Duration::ZERO))
        .with_service_provider(
            oslc_core::server::ServiceProviderConfig::new("1", "one")
                .with_collection(oslc_core::server::Collection::new("changeRequests", provider)),
        )
        .build::<()>()
        .unwrap()
        .router;
    // Other tests of this binary may hold every CPU permit for a moment (then the answer is 503 Busy): ask again.
    let url = query_url(&[("oslc.where", "dcterms:title=\"x\"")]);
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut reply = get(&app, &url, "text/turtle").await;
    while reply.status == 503 && std::time::Instant::now() < give_up {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        reply = get(&app, &url, "text/turtle").await;
    }
    let message = refused(&reply, 400);
    assert!(message.contains("query evaluation"), "{message}");
    let body = Body::empty();
    let reply = send(&app, request("GET", "/serviceProviders/catalog").body(body).unwrap()).await;
    assert_eq!(reply.status, 200, "the server still answers");
}
