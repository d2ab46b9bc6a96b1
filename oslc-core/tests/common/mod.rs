//! Helpers shared by the server tests: a router over an in-memory provider, and one-shot requests.
#![allow(dead_code, unreachable_pub, missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use http::{Request, Response};
use http_body_util::BodyExt;
use oslc_core::discovery::{Occurs, Property, Publisher};
use oslc_core::rdf::{self, RdfFormat};
use oslc_core::server::{Collection, Server, ServiceProviderConfig};
use oslc_core::vocab::{dcterms, oslc_cm, xsd};
use oslc_core::{InMemoryProvider, oxrdf::Graph, oxrdf::NamedNode};
use tower::ServiceExt;

pub const BASE: &str = "http://tracker.test/oslc";
pub const CRS: &str = "http://tracker.test/oslc/serviceProviders/1/changeRequests";

pub fn app_with(provider: Arc<InMemoryProvider>, body_limit: usize) -> Router {
    built_with(provider, body_limit).router
}

/// [`app_with`], with the IRIs and document paths the server kit minted.
pub fn built_with(provider: Arc<InMemoryProvider>, body_limit: usize) -> oslc_core::server::Built {
    Server::builder(BASE)
        .unwrap()
        .with_title("Test tracker")
        .with_publisher(Publisher::new("Test tracker", "test-tracker"))
        .with_body_limit(body_limit)
        .with_service_provider(
            ServiceProviderConfig::new("1", "Project one").with_collection(
                Collection::new("changeRequests", provider)
                    .with_title("Change requests")
                    .with_domain(NamedNode::new(oslc_cm::NS).unwrap())
                    .with_resource_type(oslc_cm::ChangeRequest.into_owned())
                    .with_property(
                        Property::new("title", dcterms::title.into_owned(), Occurs::ExactlyOne)
                            .with_value_type(xsd::string.into_owned()),
                    ),
            ),
        )
        .build()
        .unwrap()
}

pub fn app() -> (Router, Arc<InMemoryProvider>) {
    let provider = Arc::new(InMemoryProvider::new().with_resource_type(oslc_cm::ChangeRequest.into_owned()));
    (app_with(provider.clone(), 64 * 1024), provider)
}

pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Parses the body in the syntax its Content-Type names.
    pub fn graph(&self, base: &str) -> Graph {
        let format = rdf::content_type_format(self.header("content-type")).expect("an RDF content type");
        rdf::parse(&self.body, format, base).expect("a well-formed body")
    }
}

pub async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response: Response<Body> = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    Reply { status, headers, body }
}

pub fn request(method: &str, uri: &str) -> http::request::Builder {
    let path = uri.strip_prefix("http://tracker.test/oslc").unwrap_or(uri);
    Request::builder().method(method).uri(path)
}

pub async fn get(app: &Router, uri: &str, accept: &str) -> Reply {
    send(app, request("GET", uri).header("accept", accept).body(Body::empty()).unwrap()).await
}

pub async fn post(app: &Router, uri: &str, format: RdfFormat, body: impl Into<Body>) -> Reply {
    let req = request("POST", uri).header("content-type", format.media_type()).header("accept", "text/turtle");
    send(app, req.body(body.into()).unwrap()).await
}

pub const NEW_CR: &str = r#"@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix oslc_cm: <http://open-services.net/ns/cm#> .
<> a oslc_cm:ChangeRequest ;
   dcterms:title "Login fails" ;
   dcterms:description "Since the upgrade" ;
   oslc_cm:priority [ a oslc_cm:Priority ; dcterms:title "High" ] .
"#;
