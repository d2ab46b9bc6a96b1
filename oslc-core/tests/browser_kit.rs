//! The server kit for people and OSLC UI clients, over HTTP without a socket: pages for browsers, delegated dialogs
//! (Core 3.0 Delegated Dialogs) and resource previews (Core 3.0 Resource Preview). The same, in headless Chromium,
//! is `adapter-stackstorm/tests/browser.rs`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use common::*;
use oslc_core::oxrdf::{NamedNode, NamedNodeRef, TermRef};
use oslc_core::rdf::RdfFormat;
use oslc_core::vocab::{dcterms, oslc, rdf as rdf_ns};

const CHROMIUM_ACCEPT: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8";
const SELECTION: &str = "http://tracker.test/oslc/dialogs/1/changeRequests/selection";
const CREATION: &str = "http://tracker.test/oslc/dialogs/1/changeRequests/creation";

async fn created(app: &axum::Router, title: &str) -> String {
    let body =
        format!("<> a <http://open-services.net/ns/cm#ChangeRequest> ; <http://purl.org/dc/terms/title> {title:?} .");
    let reply = post(app, CRS, RdfFormat::Turtle, body).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    reply.header("location").unwrap().to_owned()
}

fn csp(reply: &Reply) -> &str {
    reply.header("content-security-policy").expect("a Content-Security-Policy")
}

#[tokio::test]
async fn browsers_get_pages_with_every_value_escaped_and_oslc_clients_get_rdf() {
    let (app, _) = app();
    let member = created(&app, "<script>alert(1)</script>").await;
    for url in [
        format!("{BASE}/serviceProviders/catalog"),
        format!("{BASE}/serviceProviders/1"),
        CRS.to_owned(),
        member.clone(),
    ] {
        let page = get(&app, &url, CHROMIUM_ACCEPT).await;
        assert_eq!(page.status, 200, "{url}");
        assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"), "{url}");
        assert!(page.text().starts_with("<!DOCTYPE html>"), "{url}");
        assert!(csp(&page).contains("frame-ancestors 'none'") && csp(&page).contains("script-src 'self'"), "{url}");
        assert_eq!(page.header("x-frame-options"), Some("DENY"));
        let rdf = get(&app, &url, "text/turtle, */*;q=0.1").await;
        assert_eq!(rdf.header("content-type"), Some("text/turtle"), "{url}");
    }
    let page = get(&app, &member, CHROMIUM_ACCEPT).await.text();
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !page.contains("<script>alert"), "{page}");
    // Links to the RDF behind the page, which a browser follows without setting Accept.
    assert!(page.contains("?format=turtle"));
    let turtle = get(&app, &format!("{member}?format=turtle"), CHROMIUM_ACCEPT).await;
    assert_eq!(turtle.header("content-type"), Some("text/turtle"));
    let rdfxml = get(&app, &format!("{member}?format=rdfxml"), CHROMIUM_ACCEPT).await;
    assert_eq!(rdfxml.header("content-type"), Some("application/rdf+xml"));
}

#[tokio::test]
async fn the_collection_page_runs_the_query_form_and_shows_a_wrong_query_on_the_form() {
    let (app, _) = app();
    created(&app, "Disk full on build agent").await;
    created(&app, "Login fails").await;
    let page = get(&app, &format!("{CRS}?oslc.searchTerms=%22disk%22"), CHROMIUM_ACCEPT).await;
    assert_eq!(page.status, 200);
    let text = page.text();
    assert!(text.contains("Disk full on build agent") && !text.contains("Login fails"), "{text}");
    assert!(text.contains("name=\"oslc.where\"") && text.contains("name=\"oslc.select\""));
    let wrong = get(&app, &format!("{CRS}?oslc.where=dcterms:title%3D"), CHROMIUM_ACCEPT).await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.text().contains("class=\"error\""), "{}", wrong.text());
}

#[tokio::test]
async fn dialogs_are_advertised_three_ways() {
    let (app, _) = app();
    // 1. In the service provider.
    let sp = get(&app, &format!("{BASE}/serviceProviders/1"), "text/turtle").await.graph(BASE);
    for (predicate, form) in [(oslc::selectionDialog, SELECTION), (oslc::creationDialog, CREATION)] {
        let dialog = sp.triples_for_predicate(predicate).next().expect("a dialog in the service").object;
        let dialog = match dialog {
            TermRef::BlankNode(b) => oslc_core::oxrdf::NamedOrBlankNodeRef::from(b),
            TermRef::NamedNode(n) => n.into(),
            other => panic!("{other}"),
        };
        let target = sp.object_for_subject_predicate(dialog, oslc::dialog).unwrap();
        assert_eq!(target, NamedNodeRef::new(&format!("{form}/form")).unwrap().into());
        assert!(sp.object_for_subject_predicate(dialog, oslc::hintWidth).is_some());
        assert!(sp.object_for_subject_predicate(dialog, oslc::hintHeight).is_some());
    }
    // 2. As Link headers on the container (OPTIONS and GET).
    let options = send(&app, request("OPTIONS", CRS).body(Body::empty()).unwrap()).await;
    let links: Vec<&str> = options.headers.get_all("link").iter().filter_map(|v| v.to_str().ok()).collect();
    let links = links.join(", ");
    assert!(
        links.contains(&format!("<{SELECTION}>; rel=\"http://open-services.net/ns/core#selectionDialog\"")),
        "{links}"
    );
    assert!(
        links.contains(&format!("<{CREATION}>; rel=\"http://open-services.net/ns/core#creationDialog\"")),
        "{links}"
    );
    let descriptor = get(&app, SELECTION, "text/turtle").await.graph(BASE);
    let selection = NamedNode::new(SELECTION).unwrap();
    assert!(descriptor.contains(oslc_core::oxrdf::TripleRef::new(&selection, rdf_ns::r#type, oslc::Dialog)));
    // 3. Through Prefer.
    let prefer = "return=representation; include=\"http://open-services.net/ns/core#PreferDialog http://www.w3.org/ns/ldp#PreferMinimalContainer\"";
    let reply = send(
        &app,
        request("GET", CRS).header("accept", "text/turtle").header("prefer", prefer).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(reply.header("preference-applied"), Some("return=representation"));
    let graph = reply.graph(BASE);
    let container = NamedNode::new(CRS).unwrap();
    assert_eq!(graph.object_for_subject_predicate(&container, oslc::selectionDialog), Some(selection.as_ref().into()));
    assert!(graph.object_for_subject_predicate(&selection, oslc::dialog).is_some());
}

#[tokio::test]
async fn the_creation_dialog_validates_creates_and_refuses_forms_from_other_sites() {
    let (app, provider) = app();
    let form = format!("{CREATION}/form");
    let page = get(&app, &form, CHROMIUM_ACCEPT).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("id=\"oslc-field-title\""), "a field from the shape");
    assert!(csp(&page).contains("frame-ancestors 'self'"), "dialogs may be framed by configured origins only");
    let submit = |origin: &'static str, body: &'static str| {
        request("POST", &form)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", CHROMIUM_ACCEPT)
            .header("origin", origin)
            .body(Body::from(body))
            .unwrap()
    };
    let missing = send(&app, submit("http://tracker.test", "title=")).await;
    assert_eq!(missing.status, 400);
    assert!(missing.text().contains("class=\"error\""));
    let cross_site = send(&app, submit("http://evil.example", "title=Sneaky")).await;
    assert_eq!(cross_site.status, 403);
    assert!(provider.is_empty(), "refused forms create nothing");
    let done = send(&app, submit("http://tracker.test", "title=From+the+dialog")).await;
    assert_eq!(done.status, 201, "{}", done.text());
    let location = done.header("location").unwrap().to_owned();
    assert!(
        done.text().contains(&format!("data-uri=\"{location}\""))
            && done.text().contains("data-label=\"From the dialog\"")
    );
    let created = get(&app, &location, "text/turtle").await.graph(BASE);
    let subject = NamedNode::new(&location).unwrap();
    assert!(created.contains(oslc_core::oxrdf::TripleRef::new(
        &subject,
        rdf_ns::r#type,
        oslc_core::vocab::oslc_cm::ChangeRequest
    )));
}

#[tokio::test]
async fn members_have_a_compact_in_json_rdf_and_oslc2_xml_and_previews() {
    let (app, _) = app();
    let member = created(&app, "Login fails").await;
    let compact = format!("<{member}?compact>; rel=\"http://open-services.net/ns/core#Compact\"");
    let reply = get(&app, &member, "text/turtle").await;
    assert!(reply.headers.get_all("link").iter().any(|v| v.to_str().unwrap() == compact), "{:?}", reply.headers);
    assert!(reply.header("vary").unwrap().contains("Prefer"));

    let json: serde_json::Value =
        serde_json::from_slice(&get(&app, &format!("{member}?compact"), "application/json").await.body).unwrap();
    assert_eq!(json["title"], "Login fails");
    for preview in ["smallPreview", "largePreview"] {
        assert!(json[preview]["document"].as_str().unwrap().starts_with(&member));
        assert!(json[preview]["hintWidth"].as_str().unwrap().ends_with("px"));
    }
    let turtle = get(&app, &format!("{member}?compact"), "text/turtle").await.graph(BASE);
    let compact_iri = NamedNode::new(format!("{member}?compact")).unwrap();
    assert!(turtle.contains(oslc_core::oxrdf::TripleRef::new(&compact_iri, rdf_ns::r#type, oslc::Compact)));
    assert!(turtle.object_for_subject_predicate(&compact_iri, oslc::smallPreview).is_some());

    let prefer = "return=representation; include=\"http://open-services.net/ns/core#PreferCompact\"";
    let inline = send(
        &app,
        request("GET", &member)
            .header("accept", "application/json")
            .header("prefer", prefer)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let inline: serde_json::Value = serde_json::from_slice(&inline.body).unwrap();
    assert_eq!(inline["compact"]["title"], "Login fails");

    let oslc2 = get(&app, &member, "application/x-oslc-compact+xml").await;
    assert_eq!(oslc2.header("content-type"), Some("application/x-oslc-compact+xml"));
    let graph = oslc_core::rdf::parse(&oslc2.body, RdfFormat::RdfXml, BASE).unwrap();
    assert_eq!(
        graph.object_for_subject_predicate(&compact_iri, dcterms::title),
        Some(oslc_core::oxrdf::LiteralRef::new_simple_literal("Login fails").into())
    );

    let small = get(&app, json["smallPreview"]["document"].as_str().unwrap(), CHROMIUM_ACCEPT).await;
    assert_eq!(small.status, 200);
    assert!(small.text().contains("Login fails"));
    assert!(csp(&small).contains("frame-ancestors 'self'"));
}

#[tokio::test]
async fn frame_ancestors_come_from_the_configuration() {
    use oslc_core::server::{Collection, Server, ServiceProviderConfig};
    let provider = std::sync::Arc::new(oslc_core::InMemoryProvider::new());
    let app: axum::Router = Server::builder(BASE)
        .unwrap()
        .with_frame_ancestor("https://elm.example.com")
        .unwrap()
        .with_service_provider(
            ServiceProviderConfig::new("1", "One").with_collection(Collection::new("changeRequests", provider)),
        )
        .build()
        .unwrap()
        .router;
    let page = get(&app, &format!("{SELECTION}/form"), CHROMIUM_ACCEPT).await;
    assert!(csp(&page).contains("frame-ancestors 'self' https://elm.example.com"), "{}", csp(&page));
    let catalog = get(&app, &format!("{BASE}/serviceProviders/catalog"), CHROMIUM_ACCEPT).await;
    assert!(csp(&catalog).contains("frame-ancestors 'none'"), "other pages are never framed");
    for bad in ["elm.example.com", "https://elm.example.com/path", "https://a.example; script-src *"] {
        assert!(Server::builder(BASE).unwrap().with_frame_ancestor(bad).is_err(), "{bad}");
    }
}
