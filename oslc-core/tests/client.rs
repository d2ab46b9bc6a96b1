//! The OSLC client against the kit over a real socket: finding capabilities through the catalog, a query followed
//! across pages, creating, a conditional PUT (and its 412), running an advertised action, credentials per prefix.
#![cfg(feature = "client")]
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use oslc_core::actions::Action;
use oslc_core::client::{Client, Credential};
use oslc_core::server::auth::{Auth, Policy, StaticToken};
use oslc_core::server::{
    ActionHandler, Collection, CollectionAction, ServeConfig, Server, ServiceProviderConfig, serve,
};
use oslc_core::vocab::{dcterms, oslc_cm};
use oslc_core::{Container, Error, InMemoryProvider, Resource, ResourceProvider, oxrdf::Literal};

const TOKEN: &str = "client-test-token";

struct Close(Arc<InMemoryProvider>);

#[async_trait::async_trait]
impl ActionHandler for Close {
    async fn run(&self, container: &Container, id: &str, current: Resource) -> oslc_core::Result<Resource> {
        let mut closed = current;
        closed.set(oslc_cm::closed, &Literal::from(true));
        self.0.insert(id, closed.clone());
        self.0.get(container, id).await
    }
}

/// A tracker on loopback whose writes need [`TOKEN`]; returns its base URL.
async fn tracker() -> (String, Arc<InMemoryProvider>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let provider = Arc::new(InMemoryProvider::new().with_resource_type(oslc_cm::ChangeRequest.into_owned()));
    let app: axum::Router = Server::builder(&base)
        .unwrap()
        .with_service_provider(
            ServiceProviderConfig::new("1", "One").with_collection(
                Collection::new("changeRequests", provider.clone())
                    .with_domain(oxrdf::NamedNode::new(oslc_cm::NS).unwrap())
                    .with_resource_type(oslc_cm::ChangeRequest.into_owned())
                    .with_action(CollectionAction::post("close", "Close", Arc::new(Close(provider.clone())))),
            ),
        )
        .build()
        .unwrap()
        .router;
    let app = Auth::new(StaticToken::new(TOKEN), Policy::protect_writes()).layer(app);
    tokio::spawn(serve(listener, app, ServeConfig::default(), std::future::pending()));
    (base, provider)
}

fn change_request(title: &str) -> String {
    format!(
        "@prefix dcterms: <http://purl.org/dc/terms/> .\n@prefix oslc_cm: <http://open-services.net/ns/cm#> .\n\
         <> a oslc_cm:ChangeRequest ; dcterms:title \"{title}\" .\n"
    )
}

#[tokio::test]
async fn finds_reads_pages_writes_and_acts() {
    let (base, _provider) = tracker().await;
    let catalog = format!("{base}/serviceProviders/catalog");
    let anonymous = Client::new().unwrap();
    let client = Client::new().unwrap().with_credential(base.clone(), Credential::bearer(TOKEN));

    let factory = client.creation_factory(&catalog, Some(oslc_cm::NS), oslc_cm::ChangeRequest).await.unwrap();
    let query_base = client.query_capability(&catalog, Some(oslc_cm::NS), oslc_cm::ChangeRequest).await.unwrap();
    assert_eq!(factory.as_str(), format!("{base}/serviceProviders/1/changeRequests"));
    let missing =
        client.query_capability(&catalog, Some("http://open-services.net/ns/qm#"), oslc_cm::ChangeRequest).await;
    assert!(matches!(missing, Err(Error::NotFound { .. })), "{missing:?}");

    // Writes without credentials are refused, with the status kept.
    let refused = anonymous.create(factory.as_str(), change_request("anonymous")).await;
    assert!(matches!(refused, Err(Error::Remote { status: Some(401), .. })), "{refused:?}");

    let mut created = Vec::new();
    for i in 0..25 {
        created.push(client.create(factory.as_str(), change_request(&format!("cr {i}"))).await.unwrap());
    }
    // 25 members in pages of 10: three pages, every member once.
    let mut found: Vec<String> = anonymous
        .query(query_base.as_str(), None, Some(10))
        .await
        .unwrap()
        .iter()
        .map(|n| n.as_str().to_owned())
        .collect();
    found.sort();
    let mut expected = created.clone();
    expected.sort();
    assert_eq!(found, expected);
    let one = anonymous.query(query_base.as_str(), Some(r#"dcterms:title="cr 7""#), None).await.unwrap();
    assert_eq!(one.iter().map(|n| n.as_str()).collect::<Vec<_>>(), [created[7].as_str()]);

    // A conditional PUT: the first succeeds, one with the old ETag gets 412.
    let fetched = client.get(&created[0]).await.unwrap();
    let etag = fetched.etag.clone().expect("an ETag");
    let mut edited = fetched.resource.clone();
    edited.set(dcterms::title, &Literal::from("renamed"));
    let new_etag = client.put(&edited, &etag).await.unwrap().expect("the new ETag");
    assert_ne!(new_etag, etag);
    let stale = client.put(&edited, &etag).await;
    assert!(matches!(stale, Err(Error::Remote { status: Some(412), retryable: false, .. })), "{stale:?}");
    assert_eq!(anonymous.get(&created[0]).await.unwrap().resource.string(dcterms::title).as_deref(), Some("renamed"));

    // The action the resource advertises runs through its binding.
    let actions = Action::read_all(fetched.resource.graph(), fetched.resource.subject());
    let close = actions.iter().find(|a| a.name() == "close").expect("close is advertised");
    client.run_action(close).await.unwrap();
    let after = anonymous.get(&created[0]).await.unwrap();
    assert_eq!(after.resource.string(oslc_cm::closed).as_deref(), Some("true"));
}

#[tokio::test]
async fn a_server_that_is_not_there_is_a_retryable_remote_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/oslc/catalog", listener.local_addr().unwrap());
    drop(listener);
    let failed = Client::new().unwrap().get_graph(&url).await;
    assert!(matches!(failed, Err(Error::Remote { status: None, retryable: true, .. })), "{failed:?}");
}

#[test]
fn credentials_are_not_printed() {
    let shown = format!("{:?} {:?}", Credential::bearer("s3cret"), Credential::basic("alice", "hunter2"));
    assert!(!shown.contains("s3cret") && !shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("alice"), "the user name helps debugging: {shown}");
}

#[tokio::test]
async fn an_oversized_answer_is_refused_without_reading_it_all() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // 64 MiB announced; the client stops at its 4 MiB budget.
    let app = axum::Router::new().route(
        "/big",
        axum::routing::get(|| async { ([("content-type", "text/turtle")], vec![b' '; 64 * 1024 * 1024]) }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let failed = Client::new().unwrap().get_graph(&format!("{base}/big")).await;
    assert!(matches!(failed, Err(Error::LimitExceeded { .. })), "{failed:?}");
}
