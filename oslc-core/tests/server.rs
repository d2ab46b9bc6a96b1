//! The server kit over HTTP (no socket: `tower::ServiceExt::oneshot`): negotiation, creation, ETags, errors.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use common::*;
use oslc_core::rdf::{self, FORMATS, RdfFormat};
use oslc_core::vocab::{dcterms, oslc, rdf as rdf_ns, rdfs};
use oslc_core::{ETag, Resource, oxrdf::Graph, oxrdf::NamedNode};

fn new_cr_in(format: RdfFormat) -> Vec<u8> {
    let graph = rdf::parse(NEW_CR.as_bytes(), RdfFormat::Turtle, CRS).unwrap();
    rdf::serialize(&graph, format, &oslc_core::vocab::standard_prefixes()).unwrap()
}

/// The `oslc:Error` in a reply: (statusCode, message).
fn oslc_error(reply: &Reply) -> (String, String) {
    let graph = reply.graph(BASE);
    let node = graph.subject_for_predicate_object(rdf_ns::r#type, oslc::Error).expect("an oslc:Error");
    let value = |p| match graph.object_for_subject_predicate(node, p) {
        Some(oslc_core::oxrdf::TermRef::Literal(l)) => l.value().to_owned(),
        other => panic!("no literal for {p}: {other:?}"),
    };
    (value(oslc::statusCode), value(oslc::message))
}

#[tokio::test]
async fn every_format_round_trips() {
    let (app, _) = app();
    for input in FORMATS {
        let created = post(&app, CRS, input, new_cr_in(input)).await;
        assert_eq!(created.status, 201, "POST {}: {}", input.name(), created.text());
        let location = created.header("location").unwrap().to_owned();
        let created_etag = created.header("etag").unwrap().to_owned();
        let mut graphs = Vec::new();
        for output in FORMATS {
            let reply = get(&app, &location, output.media_type()).await;
            assert_eq!(reply.status, 200);
            assert_eq!(reply.header("content-type"), Some(output.media_type()));
            assert_eq!(reply.header("oslc-core-version"), Some("3.0"));
            assert_eq!(reply.header("etag"), Some(created_etag.as_str()), "one ETag whatever the syntax");
            let graph = reply.graph(&location);
            let title = graph.object_for_subject_predicate(NamedNode::new(&location).unwrap().as_ref(), dcterms::title);
            assert_eq!(title.map(|t| t.to_string()), Some("\"Login fails\"".to_owned()), "{}", output.name());
            graphs.push(ETag::of_graph(&graph));
        }
        assert!(graphs.windows(2).all(|w| w[0] == w[1]), "{} read back differently: {graphs:?}", input.name());
        // The nested priority node and the description came through in every input syntax.
        let reply = get(&app, &location, "application/n-triples").await;
        assert_eq!(reply.graph(&location).len(), 7, "{}", reply.text());
    }
}

#[tokio::test]
async fn accept_that_cannot_be_served_gives_406_and_creates_nothing() {
    let (app, provider) = app();
    let reply = get(&app, CRS, "application/pdf").await;
    assert_eq!(reply.status, 406);
    assert_eq!(reply.header("content-type"), Some("text/turtle"));
    let (status, message) = oslc_error(&reply);
    assert_eq!(status, "406");
    assert!(message.contains("application/pdf"), "{message}");

    let request = request("POST", CRS).header("content-type", "text/turtle").header("accept", "image/png");
    let reply = send(&app, request.body(Body::from(NEW_CR)).unwrap()).await;
    assert_eq!(reply.status, 406);
    assert!(provider.is_empty());
}

#[tokio::test]
async fn body_that_cannot_be_read_gives_415_and_creates_nothing() {
    let (app, provider) = app();
    for content_type in [Some("text/html"), Some("application/trig"), Some("application/octet-stream"), None] {
        let mut request = request("POST", CRS).header("accept", "application/ld+json");
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        let reply = send(&app, request.body(Body::from(NEW_CR)).unwrap()).await;
        assert_eq!(reply.status, 415, "{content_type:?}");
        assert_eq!(reply.header("content-type"), Some("application/ld+json"), "error in the negotiated syntax");
        assert_eq!(oslc_error(&reply).0, "415");
    }
    assert!(provider.is_empty());
}

#[tokio::test]
async fn create_answers_201_with_location_and_etag() {
    let (app, provider) = app();
    let reply = post(&app, CRS, RdfFormat::Turtle, NEW_CR).await;
    assert_eq!(reply.status, 201);
    assert_eq!(reply.header("location"), Some(format!("{CRS}/1").as_str()));
    let created = reply.graph(CRS);
    let subject = NamedNode::new(format!("{CRS}/1")).unwrap();
    let stored = Resource::from_graph(subject.clone(), created);
    assert_eq!(reply.header("etag"), Some(stored.etag().to_string().as_str()));
    assert_eq!(stored.string(dcterms::identifier).as_deref(), Some("1"));
    assert_eq!(provider.len(), 1);

    // A body whose resource is a blank node (no `<>`) is created just the same.
    let reply = post(&app, CRS, RdfFormat::Turtle, "[] <http://purl.org/dc/terms/title> \"Second\" .").await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.header("location"), Some(format!("{CRS}/2").as_str()));

    // The listing has both members.
    let list = get(&app, CRS, "text/turtle").await;
    assert_eq!(list.status, 200);
    let graph = list.graph(CRS);
    let members: Vec<_> = graph
        .objects_for_subject_predicate(NamedNode::new(CRS).unwrap().as_ref(), oslc_core::vocab::rdfs::member)
        .collect();
    assert_eq!(members.len(), 2);
}

#[tokio::test]
async fn etag_and_if_match_flow() {
    let (app, _) = app();
    let location = post(&app, CRS, RdfFormat::Turtle, NEW_CR).await.header("location").unwrap().to_owned();
    let first = get(&app, &location, "text/turtle").await;
    assert_eq!(first.status, 200);
    let etag = first.header("etag").unwrap().to_owned();

    // 304 when the client's copy is current.
    let reply = send(&app, request("GET", &location).header("if-none-match", &etag).body(Body::empty()).unwrap()).await;
    assert_eq!(reply.status, 304);
    assert!(reply.body.is_empty());
    assert_eq!(reply.header("etag"), Some(etag.as_str()));

    let changed = NEW_CR.replace("Login fails", "Login fails on Tuesdays");
    let put = |if_match: Option<&str>| {
        let mut r = request("PUT", &location).header("content-type", "text/turtle");
        if let Some(tag) = if_match {
            r = r.header("if-match", tag);
        }
        r.body(Body::from(changed.clone())).unwrap()
    };

    // 400 without If-Match, 412 with a stale one; neither changes anything.
    let reply = send(&app, put(None)).await;
    assert_eq!(reply.status, 400);
    assert!(oslc_error(&reply).1.contains("If-Match"));
    let reply = send(&app, put(Some("\"stale\""))).await;
    assert_eq!(reply.status, 412);
    assert_eq!(oslc_error(&reply).0, "412");
    assert_eq!(get(&app, &location, "text/turtle").await.header("etag"), Some(etag.as_str()));

    // 200 with the current one, and a new ETag.
    let reply = send(&app, put(Some(&etag))).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let new_etag = reply.header("etag").unwrap().to_owned();
    assert_ne!(new_etag, etag);
    let now = get(&app, &location, "text/turtle").await;
    assert_eq!(now.header("etag"), Some(new_etag.as_str()));
    assert!(now.text().contains("Login fails on Tuesdays"));

    // The old ETag is stale now.
    assert_eq!(send(&app, put(Some(&etag))).await.status, 412);
    // If-None-Match with the old ETag gets the full resource.
    let reply = send(&app, request("GET", &location).header("if-none-match", &etag).body(Body::empty()).unwrap()).await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn malformed_bodies_give_400_naming_line_and_column_and_create_nothing() {
    let (app, provider) = app();
    let turtle = "@prefix dcterms: <http://purl.org/dc/terms/> .\n<> a <http://open-services.net/ns/cm#ChangeRequest> ;\n   dcterms:title \"unterminated ;\n";
    let rdfxml = "<?xml version=\"1.0\"?>\n<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"\n  xmlns:dcterms=\"http://purl.org/dc/terms/\">\n  <rdf:Description rdf:about=\"\">\n    <dcterms:title>x</dcterms:titel>\n  </rdf:Description>\n</rdf:RDF>\n";
    for (format, body, line) in [(RdfFormat::Turtle, turtle, "line 3"), (RdfFormat::RdfXml, rdfxml, "line 5")] {
        let reply = post(&app, CRS, format, body).await;
        assert_eq!(reply.status, 400, "{}", format.name());
        let (status, message) = oslc_error(&reply);
        assert_eq!(status, "400");
        assert!(message.contains(line) && message.contains("column"), "{}: {message}", format.name());
    }
    assert!(provider.is_empty());
    assert_eq!(get(&app, &format!("{CRS}/1"), "text/turtle").await.status, 404);
}

#[tokio::test]
async fn body_over_the_limit_gives_413() {
    let provider = std::sync::Arc::new(oslc_core::InMemoryProvider::new());
    let app = app_with(provider.clone(), 256);
    let big = format!("<> <http://purl.org/dc/terms/title> \"{}\" .", "x".repeat(1000));
    let reply = post(&app, CRS, RdfFormat::Turtle, big).await;
    assert_eq!(reply.status, 413);
    assert_eq!(oslc_error(&reply).0, "413");
    assert!(provider.is_empty());
}

#[tokio::test]
async fn bodies_that_name_no_single_resource_are_refused() {
    let (app, provider) = app();
    for body in ["", "<a> <http://purl.org/dc/terms/title> \"A\" . <b> <http://purl.org/dc/terms/title> \"B\" ."] {
        let reply = post(&app, CRS, RdfFormat::Turtle, body).await;
        assert_eq!(reply.status, 400, "{body:?}");
    }
    assert!(provider.is_empty());
}

#[tokio::test]
async fn delete_then_gone() {
    let (app, provider) = app();
    let location = post(&app, CRS, RdfFormat::Turtle, NEW_CR).await.header("location").unwrap().to_owned();
    let stale =
        send(&app, request("DELETE", &location).header("if-match", "\"old\"").body(Body::empty()).unwrap()).await;
    assert_eq!(stale.status, 412);
    assert_eq!(provider.len(), 1);
    let reply = send(&app, request("DELETE", &location).body(Body::empty()).unwrap()).await;
    assert_eq!(reply.status, 204);
    let reply = get(&app, &location, "application/rdf+xml").await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.header("content-type"), Some("application/rdf+xml"));
    assert_eq!(oslc_error(&reply).0, "404");
    assert_eq!(send(&app, request("DELETE", &location).body(Body::empty()).unwrap()).await.status, 404);
}

#[tokio::test]
async fn head_options_and_cors() {
    let (app, _) = app();
    let location = post(&app, CRS, RdfFormat::Turtle, NEW_CR).await.header("location").unwrap().to_owned();
    let head = send(&app, request("HEAD", &location).body(Body::empty()).unwrap()).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert!(head.header("etag").is_some());
    assert_eq!(head.header("link"), Some("<http://www.w3.org/ns/ldp#Resource>; rel=\"type\""));

    let options = send(&app, request("OPTIONS", CRS).body(Body::empty()).unwrap()).await;
    assert_eq!(options.status, 204);
    assert!(options.header("allow").unwrap().contains("POST"));
    let accept_post = options.header("accept-post").unwrap();
    for format in FORMATS {
        assert!(accept_post.contains(format.media_type()), "{accept_post}");
    }
    assert!(options.header("link").unwrap().contains("ldp#DirectContainer"));
    let options = send(&app, request("OPTIONS", &location).body(Body::empty()).unwrap()).await;
    assert!(options.header("allow").unwrap().contains("PUT"));

    let preflight = request("OPTIONS", &location)
        .header("origin", "https://other-tool.test")
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "if-match, content-type");
    let reply = send(&app, preflight.body(Body::empty()).unwrap()).await;
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert!(reply.header("access-control-allow-methods").unwrap().contains("PUT"));
    let cors_get =
        send(&app, request("GET", &location).header("origin", "https://other-tool.test").body(Body::empty()).unwrap())
            .await;
    assert!(cors_get.header("access-control-expose-headers").unwrap().to_ascii_lowercase().contains("etag"));
    let varies = |reply: &common::Reply| {
        reply
            .headers
            .get_all("vary")
            .iter()
            .flat_map(|v| v.to_str().unwrap().split(','))
            .map(|n| n.trim().to_ascii_lowercase())
            .collect::<Vec<_>>()
    };
    assert!(varies(&cors_get).contains(&"origin".to_owned()), "{:?}", cors_get.headers);
    assert_eq!(cors_get.headers.get_all("vary").iter().count(), 1, "{:?}", cors_get.headers);
    // Not a CORS request (no `Origin`): no CORS headers, and `Origin` joins the answer's one `Vary` line.
    let plain = get(&app, &location, "text/turtle").await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("access-control-allow-origin"), None);
    assert_eq!(plain.header("access-control-expose-headers"), None);
    assert_eq!(plain.headers.get_all("vary").iter().count(), 1, "{:?}", plain.headers);
    assert_eq!(varies(&plain), ["accept", "prefer", "origin"]);
    let catalog = get(&app, &format!("{BASE}/serviceProviders/catalog"), "text/turtle").await;
    assert_eq!(
        catalog.headers.get_all("vary").iter().map(|v| v.to_str().unwrap()).collect::<Vec<_>>(),
        ["Accept, Origin"]
    );
    // A plain OPTIONS is the route's; with `Origin` (a browser's actual OPTIONS, after its preflight), it also
    // carries the CORS headers that let the page read `Allow` and `Accept-Post`.
    let options = send(
        &app,
        request("OPTIONS", &location).header("origin", "https://other-tool.test").body(Body::empty()).unwrap(),
    )
    .await;
    assert!(options.header("allow").unwrap().contains("PUT"));
    assert_eq!(options.header("access-control-allow-origin"), Some("*"));
    let exposed = options.header("access-control-expose-headers").unwrap().to_ascii_lowercase();
    assert!(exposed.contains("allow") && exposed.contains("accept-post"), "{exposed}");
    assert!(options.header("access-control-allow-methods").is_none(), "not a preflight's answer");
    assert!(varies(&options).contains(&"origin".to_owned()), "{:?}", options.headers);
    let options = send(&app, request("OPTIONS", &location).body(Body::empty()).unwrap()).await;
    assert!(options.header("allow").unwrap().contains("PUT"));
    assert_eq!(options.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn discovery_documents_are_served_with_etags() {
    let (app, _) = app();
    let catalog = get(&app, &format!("{BASE}/serviceProviders/catalog"), "*/*").await;
    assert_eq!(catalog.status, 200);
    assert_eq!(catalog.header("content-type"), Some("text/turtle"));
    assert_eq!(catalog.header("oslc-core-version"), Some("3.0"));
    let etag = catalog.header("etag").unwrap().to_owned();
    let again = send(
        &app,
        request("GET", &format!("{BASE}/serviceProviders/catalog"))
            .header("if-none-match", &etag)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(again.status, 304);

    let sp = get(&app, &format!("{BASE}/serviceProviders/1"), "text/turtle").await;
    let graph: Graph = sp.graph(BASE);
    let query_base = graph.subject_for_predicate_object(oslc::queryBase, NamedNode::new(CRS).unwrap().as_ref());
    assert!(query_base.is_some(), "the provider's query capability points at the collection");
    assert!(graph.subject_for_predicate_object(oslc::creation, NamedNode::new(CRS).unwrap().as_ref()).is_some());
}

#[tokio::test]
async fn writes_answer_in_the_syntax_written_when_accept_leaves_the_choice_open() {
    let (app, _) = app();
    for (format, accept) in [(RdfFormat::RdfXml, None), (RdfFormat::NTriples, Some("*/*")), (FORMATS[1], Some("*/*"))] {
        let mut r = request("POST", CRS).header("content-type", format.media_type());
        if let Some(accept) = accept {
            r = r.header("accept", accept);
        }
        let created = send(&app, r.body(Body::from(new_cr_in(format))).unwrap()).await;
        assert_eq!(created.status, 201, "{}", created.text());
        assert_eq!(created.header("content-type"), Some(format.media_type()), "POST in {}", format.name());
        let location = created.header("location").unwrap().to_owned();
        let etag = created.header("etag").unwrap().to_owned();
        let mut r = request("PUT", &location).header("content-type", format.media_type()).header("if-match", &etag);
        if let Some(accept) = accept {
            r = r.header("accept", accept);
        }
        let updated = send(&app, r.body(Body::from(created.body.clone())).unwrap()).await;
        assert_eq!(updated.status, 200, "{}", updated.text());
        assert_eq!(updated.header("content-type"), Some(format.media_type()), "PUT in {}", format.name());
    }
    // An explicit Accept still wins.
    let r = request("POST", CRS).header("content-type", "application/rdf+xml").header("accept", "text/turtle");
    let created = send(&app, r.body(Body::from(new_cr_in(RdfFormat::RdfXml))).unwrap()).await;
    assert_eq!(created.header("content-type"), Some("text/turtle"));
}

#[tokio::test]
async fn a_put_about_another_resource_is_refused_and_changes_nothing() {
    let (app, _) = app();
    let location = post(&app, CRS, RdfFormat::Turtle, NEW_CR).await.header("location").unwrap().to_owned();
    let before = get(&app, &location, "text/turtle").await;
    let etag = before.header("etag").unwrap().to_owned();
    let other = format!("<{CRS}/someone-else> <http://purl.org/dc/terms/title> \"hijack\" .");
    let r = request("PUT", &location).header("content-type", "text/turtle").header("if-match", &etag);
    let reply = send(&app, r.body(Body::from(other)).unwrap()).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    let (_, message) = oslc_error(&reply);
    assert!(message.contains("someone-else"), "{message}");
    assert_eq!(get(&app, &location, "text/turtle").await.header("etag"), Some(etag.as_str()));
}

#[tokio::test]
async fn oslc_core_version_1_is_refused_and_2_gets_rdf_xml_and_2_0() {
    let (app, _) = app();
    let catalog = format!("{BASE}/serviceProviders/catalog");
    let ask = |version: &'static str, accept: &'static str| {
        request("GET", &catalog)
            .header("oslc-core-version", version)
            .header("accept", accept)
            .body(Body::empty())
            .unwrap()
    };
    let reply = send(&app, ask("1.0", "text/turtle")).await;
    assert_eq!(reply.status, 400);
    assert!(oslc_error(&reply).1.contains("1.0"));
    let reply = send(&app, ask("2.0", "text/turtle;q=0.9, application/rdf+xml;q=0.5")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/rdf+xml"));
    assert_eq!(reply.header("oslc-core-version"), Some("2.0"));
    let reply = send(&app, ask("2.0", "text/turtle")).await;
    assert_eq!(reply.header("content-type"), Some("text/turtle"), "RDF/XML only when Accept allows it");
    let reply = send(&app, ask("3.0", "text/turtle;q=0.9, application/rdf+xml;q=0.5")).await;
    assert_eq!((reply.header("content-type"), reply.header("oslc-core-version")), (Some("text/turtle"), Some("3.0")));
}

#[tokio::test]
async fn an_oslc_2_client_pages_through_a_query_in_rdf_xml() {
    // OSLC Core 2.0 paging: `oslc.paging=true` and `oslc.pageSize`; members as `rdfs:member` of the query base;
    // an `oslc:ResponseInfo` about the page's URI with `oslc:totalCount` and `oslc:nextPage` until the last page.
    let (app, _) = app();
    for _ in 0..5 {
        assert_eq!(post(&app, CRS, RdfFormat::Turtle, NEW_CR).await.status, 201);
    }
    let mut url = format!("{CRS}?oslc.paging=true&oslc.pageSize=2&oslc.select=dcterms:title");
    let mut seen = Vec::new();
    for _ in 0..10 {
        let req = request("GET", &url)
            .header("oslc-core-version", "2.0")
            .header("accept", "application/rdf+xml")
            .body(Body::empty())
            .unwrap();
        let reply = send(&app, req).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("content-type"), Some("application/rdf+xml"));
        assert_eq!(reply.header("oslc-core-version"), Some("2.0"));
        let graph = reply.graph(BASE);
        let base = NamedNode::new(CRS).unwrap();
        let members: Vec<String> =
            graph.objects_for_subject_predicate(base.as_ref(), rdfs::member).map(|m| m.to_string()).collect();
        assert!(!members.is_empty() && members.len() <= 2, "{members:?}");
        seen.extend(members);
        let info = NamedNode::new(&url).unwrap();
        assert!(graph.contains(oslc_core::oxrdf::TripleRef::new(&info, rdf_ns::r#type, oslc::ResponseInfo)));
        assert_eq!(
            graph.object_for_subject_predicate(&info, oslc::totalCount).map(|t| t.to_string()).as_deref(),
            Some("\"5\"^^<http://www.w3.org/2001/XMLSchema#integer>")
        );
        match graph.object_for_subject_predicate(&info, oslc::nextPage) {
            Some(oslc_core::oxrdf::TermRef::NamedNode(next)) => url = next.as_str().to_owned(),
            _ => break,
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5, "every member once across the pages");
}

#[tokio::test]
async fn the_catalog_is_found_at_the_well_known_path_and_through_rootservices() {
    let (app, _) = app();
    let catalog = format!("{BASE}/serviceProviders/catalog");
    let well_known = get(&app, &format!("{BASE}/.well-known/oslc/sp-catalog"), "text/turtle").await;
    assert_eq!(well_known.status, 200);
    let graph = well_known.graph(BASE);
    let about = NamedNode::new(&catalog).unwrap();
    assert!(graph.contains(oslc_core::oxrdf::TripleRef::new(&about, rdf_ns::r#type, oslc::ServiceProviderCatalog)));

    let root = send(&app, request("GET", &format!("{BASE}/rootservices")).body(Body::empty()).unwrap()).await;
    assert_eq!(root.status, 200);
    assert_eq!(root.header("content-type"), Some("application/rdf+xml"), "Jazz clients read RDF/XML");
    let graph = rdf::parse(&root.body, RdfFormat::RdfXml, BASE).unwrap();
    let cm = NamedNode::new("http://open-services.net/xmlns/cm/1.0/cmServiceProviders").unwrap();
    let me = NamedNode::new(format!("{BASE}/rootservices")).unwrap();
    assert_eq!(graph.object_for_subject_predicate(&me, &cm).map(|o| o.to_string()), Some(format!("<{catalog}>")));
}

#[tokio::test]
async fn capabilities_are_titled_for_what_they_do_and_unknown_rdf_syntaxes_get_one_we_have() {
    let (app, _) = app();
    let reply = get(&app, &format!("{BASE}/serviceProviders/catalog"), "application/trig").await;
    assert_eq!(reply.status, 200, "an RDF syntax we lack gets one we have, not 406");
    assert_eq!(reply.header("content-type"), Some("text/turtle"));
    let graph = reply.graph(BASE);
    let titles = |ty| -> Vec<String> {
        graph
            .subjects_for_predicate_object(rdf_ns::r#type, ty)
            .filter_map(|s| graph.object_for_subject_predicate(s, dcterms::title))
            .map(|t| match t {
                oslc_core::oxrdf::TermRef::Literal(l) => {
                    assert_eq!(l.datatype(), rdf_ns::XMLLiteral, "titles are rdf:XMLLiteral, as the shapes say");
                    l.value().to_owned()
                }
                other => panic!("a title {other}"),
            })
            .collect()
    };
    assert_eq!(titles(oslc::ServiceProvider), ["Project one"]);
    assert_eq!(titles(oslc::QueryCapability), ["Query Change requests"]);
    assert_eq!(titles(oslc::CreationFactory), ["Create Change requests"]);
}

#[tokio::test]
async fn oslc_properties_selects_on_a_resource_get_and_on_queries() {
    let (app, _) = app();
    let location = post(&app, CRS, RdfFormat::Turtle, NEW_CR).await.header("location").unwrap().to_owned();
    let full = get(&app, &location, "text/turtle").await;
    let partial = get(&app, &format!("{location}?oslc.properties=dcterms:title"), "text/turtle").await;
    assert_eq!(partial.status, 200, "{}", partial.text());
    assert_eq!(partial.header("etag"), full.header("etag"), "the resource's ETag, for a later If-Match");
    let graph = partial.graph(&location);
    assert_eq!(graph.len(), 1, "{}", partial.text());
    assert!(graph.triples_for_predicate(dcterms::title).next().is_some());

    let prefixed =
        format!("{location}?oslc.prefix=x%3D%3Chttp://purl.org/dc/terms/%3E&oslc.properties=x:description,x:title");
    assert_eq!(get(&app, &prefixed, "text/turtle").await.graph(&location).len(), 2);
    let bad = get(&app, &format!("{location}?oslc.properties=nope:title"), "text/turtle").await;
    assert_eq!(bad.status, 400, "an unknown prefix is named: {}", bad.text());

    let query = get(&app, &format!("{CRS}?oslc.properties=dcterms:title"), "text/turtle").await;
    let graph = query.graph(CRS);
    let member = NamedNode::new(&location).unwrap();
    assert!(graph.object_for_subject_predicate(&member, dcterms::title).is_some(), "{}", query.text());
    assert!(graph.object_for_subject_predicate(&member, dcterms::description).is_none());
}

#[tokio::test]
async fn a_changed_resource_is_never_answered_from_the_representation_cache() {
    let (app, _) = app();
    let location = post(&app, CRS, RdfFormat::Turtle, NEW_CR).await.header("location").unwrap().to_owned();
    for format in FORMATS {
        let first = get(&app, &location, format.media_type()).await;
        let again = get(&app, &location, format.media_type()).await;
        assert_eq!(first.body, again.body, "{}: the same bytes for the same state", format.name());
        assert_eq!(again.header("content-type"), Some(format.media_type()));
    }
    let etag = get(&app, &location, "text/turtle").await.header("etag").unwrap().to_owned();
    let changed = NEW_CR.replace("Login fails", "Login fails on Tuesdays");
    let r = request("PUT", &location).header("content-type", "text/turtle").header("if-match", &etag);
    assert_eq!(send(&app, r.body(Body::from(changed)).unwrap()).await.status, 200);
    for format in FORMATS {
        let after = get(&app, &location, format.media_type()).await;
        assert_ne!(after.header("etag"), Some(etag.as_str()));
        assert!(after.text().contains("Tuesdays"), "{}: {}", format.name(), after.text());
    }
}

#[tokio::test]
async fn a_put_with_oslc_properties_updates_only_those_properties() {
    let (app, _) = app();
    let created = post(&app, CRS, RdfFormat::Turtle, NEW_CR).await;
    let location = created.header("location").unwrap().to_owned();
    let put = |query: &'static str, body: &'static str, etag: String| {
        let (app, url) = (app.clone(), format!("{location}?{query}"));
        async move {
            let req = request("PUT", &url)
                .header("content-type", "text/turtle")
                .header("if-match", etag)
                .body(Body::from(body))
                .unwrap();
            send(&app, req).await
        }
    };
    let etag = created.header("etag").unwrap().to_owned();
    // Only the title: the description and the nested priority stay, the body's description is not taken.
    let reply = put(
        "oslc.properties=dcterms:title",
        "<> <http://purl.org/dc/terms/title> \"Login fails on Sundays\" ; <http://purl.org/dc/terms/description> \"ignored\" .",
        etag,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let graph = get(&app, &location, "text/turtle").await.graph(BASE);
    let subject = NamedNode::new(&location).unwrap();
    let text = |p| graph.object_for_subject_predicate(&subject, p).map(|t| t.to_string());
    assert_eq!(text(dcterms::title).as_deref(), Some("\"Login fails on Sundays\""));
    assert_eq!(text(dcterms::description).as_deref(), Some("\"Since the upgrade\""));
    let priority = graph.object_for_subject_predicate(&subject, oslc_core::vocab::oslc_cm::priority);
    let Some(oslc_core::oxrdf::TermRef::BlankNode(priority)) = priority else { panic!("the priority stays") };
    assert_eq!(graph.triples_for_subject(priority).count(), 2, "with its own triples");

    // A named property the body leaves out is removed.
    let etag = reply.header("etag").unwrap().to_owned();
    let reply =
        put("oslc.properties=dcterms:description", "<> <http://purl.org/dc/terms/title> \"ignored\" .", etag).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let graph = get(&app, &location, "text/turtle").await.graph(BASE);
    assert!(graph.object_for_subject_predicate(&subject, dcterms::description).is_none());
    assert_eq!(
        graph.object_for_subject_predicate(&subject, dcterms::title).map(|t| t.to_string()).as_deref(),
        Some("\"Login fails on Sundays\"")
    );
    // A stale ETag still fails.
    let reply =
        put("oslc.properties=dcterms:title", "<> <http://purl.org/dc/terms/title> \"x\" .", "\"stale\"".into()).await;
    assert_eq!(reply.status, 412);
}

#[tokio::test]
async fn rdf_xml_nests_services_under_their_provider_and_is_the_same_in_every_run() {
    // Point 4: two servers built alike (as two runs are: blank nodes get other random ids) write the same bytes,
    // with the services, capabilities and factories nested as Jazz-style clients' XPath expects.
    let (first, _) = app();
    let (second, _) = app();
    for path in ["/serviceProviders/1", "/serviceProviders/catalog", "/resourceShapes/1/changeRequests"] {
        let a = get(&first, &format!("{BASE}{path}"), "application/rdf+xml").await;
        let b = get(&second, &format!("{BASE}{path}"), "application/rdf+xml").await;
        assert_eq!(a.status, 200);
        assert_eq!(a.text(), b.text(), "{path}");
    }
    let provider = get(&first, &format!("{BASE}/serviceProviders/1"), "application/rdf+xml").await.text();
    let compact: String = provider.split_whitespace().collect();
    for nested in [
        "<oslc:service><oslc:Service>",
        "<oslc:queryCapability><oslc:QueryCapability>",
        "<oslc:creationFactory><oslc:CreationFactory>",
    ] {
        assert!(compact.contains(nested), "{nested} in {provider}");
    }
    assert!(!provider.contains("rdf:nodeID"), "every blank node is nested where it is used: {provider}");
}

#[tokio::test]
async fn without_its_route_layer_the_kit_serves_the_same_once_the_application_applies_it() {
    let provider = || std::sync::Arc::new(oslc_core::InMemoryProvider::new());
    let build = |layered: bool| {
        let builder = oslc_core::server::Server::builder(BASE).unwrap().with_service_provider(
            oslc_core::server::ServiceProviderConfig::new("1", "Project one")
                .with_collection(oslc_core::server::Collection::new("changeRequests", provider())),
        );
        if layered { builder } else { builder.without_route_layer() }.build::<()>().unwrap()
    };
    let catalog = format!("{BASE}/serviceProviders/catalog");
    let version_1 = || {
        request("GET", &catalog)
            .header("oslc-core-version", "1.0")
            .header("origin", "https://other-tool.test")
            .body(Body::empty())
            .unwrap()
    };
    // Left off: nothing checks the version, nothing adds CORS.
    let bare: axum::Router = build(false).router;
    let reply = send(&bare, version_1()).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("access-control-allow-origin"), None);
    // Applied by the application, inside a layer of its own: as the kit applies it itself.
    let built = build(false);
    let kit = built.layer.clone();
    let applied: axum::Router = axum::Router::from(built).layer(
        tower::ServiceBuilder::new()
            .layer(tower::util::MapResponseLayer::new(|mut response: axum::response::Response| {
                response.headers_mut().insert("x-application", http::HeaderValue::from_static("1"));
                response
            }))
            .layer(kit),
    );
    let layered: axum::Router = build(true).router;
    for app in [&applied, &layered] {
        let reply = send(app, version_1()).await;
        assert_eq!(reply.status, 400);
        assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    }
    assert_eq!(send(&applied, version_1()).await.header("x-application"), Some("1"));
}
