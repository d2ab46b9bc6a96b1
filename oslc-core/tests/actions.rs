//! Actions declared on a collection: advertised on the members they are available for (both namespaces, binding
//! IRIs), run at the route the kit mints, 409 where not available.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use axum::body::Body;
use common::*;
use oslc_core::actions::Action;
use oslc_core::rdf::RdfFormat;
use oslc_core::server::{ActionHandler, Collection, CollectionAction, Server, ServiceProviderConfig};
use oslc_core::vocab::{oslc_cm, rdf as rdf_ns};
use oslc_core::{Container, InMemoryProvider, Resource, ResourceProvider, Result, oxrdf::Literal, oxrdf::NamedNode};

struct Close(Arc<InMemoryProvider>);

#[async_trait::async_trait]
impl ActionHandler for Close {
    async fn run(&self, container: &Container, id: &str, current: Resource) -> Result<Resource> {
        let mut closed = current;
        closed.set(oslc_cm::closed, &Literal::from(true));
        self.0.insert(id, closed.clone());
        self.0.get(container, id).await
    }
}

fn is_open(r: &Resource) -> bool {
    r.string(oslc_cm::closed).as_deref() != Some("true")
}

#[tokio::test]
async fn declared_actions_are_advertised_and_run() {
    let provider = Arc::new(InMemoryProvider::new());
    let app: axum::Router = Server::builder(BASE)
        .unwrap()
        .with_service_provider(
            ServiceProviderConfig::new("1", "one").with_collection(
                Collection::new("changeRequests", provider.clone())
                    .with_action(
                        CollectionAction::post("close", "Close", Arc::new(Close(provider.clone())))
                            .available_when(is_open),
                    )
                    .with_action(CollectionAction::delete("Delete")),
            ),
        )
        .build()
        .unwrap()
        .router;
    let created = post(&app, CRS, RdfFormat::Turtle, NEW_CR).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let location = created.header("location").unwrap().to_owned();
    let member = NamedNode::new(&location).unwrap();

    let read = get(&app, &location, "application/rdf+xml").await;
    let graph = read.graph(&location);
    let actions = Action::read_all(&graph, member.as_ref());
    let names: Vec<&str> = actions.iter().map(Action::name).collect();
    assert_eq!(names, ["close", "delete"]);
    assert!(actions.iter().all(|a| a.binding().is_some_and(|b| b.iri.is_some())), "bindings have IRIs");
    assert!(graph.triples_for_predicate(oslc_core::actions::OSLC_ACTION).count() == 2, "also as oslc:action");
    assert!(graph.contains(oslc_core::oxrdf::TripleRef::new(
        &actions[0].iri,
        rdf_ns::r#type,
        oslc_core::vocab::oslc::Action
    )));
    let close = actions[0].binding().unwrap();
    assert_eq!((close.method.as_str(), close.uri.as_str()), ("POST", format!("{location}/close").as_str()));
    assert_eq!(read.header("etag"), created.header("etag"), "the advertised representation has the resource's ETag");

    let run = |uri: String| {
        let app = app.clone();
        async move { send(&app, request("POST", &uri).header("accept", "text/turtle").body(Body::empty()).unwrap()).await }
    };
    let closed = run(close.uri.as_str().to_owned()).await;
    assert_eq!(closed.status, 200, "{}", closed.text());
    assert!(closed.text().contains("closed"), "{}", closed.text());
    let after = Action::read_all(&closed.graph(&location), member.as_ref());
    assert_eq!(after.iter().map(Action::name).collect::<Vec<_>>(), ["delete"], "close is no longer offered");
    let again = run(close.uri.as_str().to_owned()).await;
    assert_eq!(again.status, 409, "{}", again.text());
    assert_eq!(run(format!("{CRS}/999/close")).await.status, 404);
}

#[tokio::test]
async fn an_action_button_works_from_the_servers_own_page_only() {
    let provider = Arc::new(InMemoryProvider::new());
    let app: axum::Router = Server::builder(BASE)
        .unwrap()
        .with_service_provider(ServiceProviderConfig::new("1", "one").with_collection(
            Collection::new("changeRequests", provider.clone()).with_action(
                CollectionAction::post("close", "Close", Arc::new(Close(provider.clone()))).available_when(is_open),
            ),
        ))
        .build()
        .unwrap()
        .router;
    let location = post(&app, CRS, RdfFormat::Turtle, NEW_CR).await.header("location").unwrap().to_owned();
    let page = get(&app, &location, "text/html").await.text();
    assert!(page.contains(&format!("<form method=\"post\" action=\"{location}/close\">")), "{page}");
    let press = |site: &'static str| {
        request("POST", &format!("{location}/close"))
            .header("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("sec-fetch-site", site)
            .body(Body::empty())
            .unwrap()
    };
    // A form on another site (which would carry cached Basic credentials) is refused and changes nothing.
    assert_eq!(send(&app, press("cross-site")).await.status, 403);
    assert!(is_open(
        &provider
            .get(&Container::new(NamedNode::new(CRS).unwrap()), location.rsplit('/').next().unwrap())
            .await
            .unwrap()
    ));
    // The button on the resource's own page runs it and goes back to the page.
    let pressed = send(&app, press("same-origin")).await;
    assert_eq!(pressed.status, 303);
    assert_eq!(pressed.header("location"), Some(location.as_str()));
    assert!(!is_open(
        &provider
            .get(&Container::new(NamedNode::new(CRS).unwrap()), location.rsplit('/').next().unwrap())
            .await
            .unwrap()
    ));
}
