//! A second adapter, written here in full, for a made-up CI server's jobs (issue "The libraries as a toolkit"):
//! discovery, OSLC Query, creation, an OSLC Action, auth on writes, change events and their TRS come from
//! `oslc-core` and `oslc-events` alone. The adapter itself is the part between the two rulers below.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use http_body_util::BodyExt;
use oslc_core::discovery::{Occurs, Property};
use oslc_core::oxrdf::{Graph, Literal, NamedNode, TermRef};
use oslc_core::provider::{Container, IfMatch, ResourceProvider};
use oslc_core::rdf::{self, RdfFormat};
use oslc_core::server::auth::{Auth, Policy, StaticToken};
use oslc_core::server::{ActionHandler, Collection, CollectionAction, Layout, Server, ServiceProviderConfig};
use oslc_core::vocab::{dcterms, oslc, rdf as rdf_ns, rdfs, trs, xsd};
use oslc_core::{InMemoryProvider, Resource};
use oslc_events::tracked::Tracked;
use oslc_events::{ChangeKind, EventLog, MemoryEventLog, Trs};
use tower::ServiceExt;

// ---------------------------------------------------------------------------------------------- the adapter ---
const BASE: &str = "http://ci.test";
const TOKEN: &str = "ci-token";
const JOB: &str = "http://ci.test/ns#Job";
const STATE: &str = "http://ci.test/ns#state";

/// The tool's jobs (here in memory); every write through the adapter is an OSLC Event in the log.
type Jobs = Tracked<InMemoryProvider>;

/// The action: cancel a running job.
struct Cancel(Arc<Jobs>);

#[async_trait]
impl ActionHandler for Cancel {
    async fn run(&self, container: &Container, id: &str, mut job: Resource) -> oslc_core::Result<Resource> {
        let etag = job.etag();
        job.set(NamedNode::new_unchecked(STATE).as_ref(), &Literal::new_simple_literal("canceled"));
        self.0.replace(container, id, job, &IfMatch::etag(&etag)).await
    }
}

fn adapter() -> (axum::Router, Arc<dyn EventLog>) {
    let log: Arc<dyn EventLog> = Arc::new(MemoryEventLog::new());
    let layout = Layout::new(BASE).unwrap();
    let jobs = Arc::new(Tracked::new(InMemoryProvider::new(), log.clone(), layout.container("ci", "jobs").unwrap()));
    let running = |job: &Resource| job.string(NamedNode::new_unchecked(STATE).as_ref()).as_deref() == Some("running");
    let collection = Collection::new("jobs", jobs.clone())
        .with_title("CI jobs")
        .with_resource_type(NamedNode::new_unchecked(JOB))
        .with_property(Property::new("title", dcterms::title.into_owned(), Occurs::ExactlyOne))
        .with_property(
            Property::new("state", NamedNode::new_unchecked(STATE), Occurs::ExactlyOne)
                .with_value_type(xsd::string.into_owned()),
        )
        .with_action(
            CollectionAction::post("cancel", "Cancel", Arc::new(Cancel(jobs.clone()))).available_when(running),
        );
    let oslc = Server::builder(BASE)
        .unwrap()
        .with_title("CI server")
        .with_service_provider(ServiceProviderConfig::new("ci", "CI jobs").with_collection(collection))
        .build::<()>()
        .unwrap();
    assert_eq!(oslc.collection("ci", "jobs").unwrap().container, layout.container("ci", "jobs").unwrap());
    let trs = oslc_events::trs::server::router(
        Trs::new(layout.iri("/trs").unwrap().into_string(), log.clone(), jobs),
        "/trs",
    );
    (Auth::new(StaticToken::new(TOKEN), Policy::protect_writes()).layer(oslc.router.merge(trs)), log)
}
// ---------------------------------------------------------------------------------------------------------------

async fn call(app: &axum::Router, method: &str, url: &str, token: bool, body: &str) -> (u16, Graph, String) {
    let mut request = http::Request::builder()
        .method(method)
        .uri(url.strip_prefix(BASE).unwrap_or(url))
        .header("accept", "text/turtle")
        .header("content-type", "text/turtle");
    if token {
        request = request.header("authorization", format!("Bearer {TOKEN}"));
    }
    let response = app.clone().oneshot(request.body(Body::from(body.to_owned())).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let graph = rdf::parse(&bytes, RdfFormat::Turtle, BASE).unwrap_or_default();
    (status, graph, String::from_utf8_lossy(&bytes).into_owned())
}

fn object<'g>(graph: &'g Graph, subject: &NamedNode, predicate: oslc_core::oxrdf::NamedNodeRef<'_>) -> TermRef<'g> {
    graph.object_for_subject_predicate(subject, predicate).unwrap_or_else(|| panic!("{subject} {predicate}"))
}

fn iri(term: TermRef<'_>) -> NamedNode {
    match term {
        TermRef::NamedNode(n) => n.into_owned(),
        other => panic!("not an IRI: {other}"),
    }
}

#[tokio::test]
async fn a_second_adapter_gets_discovery_query_actions_auth_events_and_trs_from_the_libraries() {
    let (app, log) = adapter();

    // Discovery: catalog → provider → the creation factory and query capability of Job.
    let (status, catalog, _) = call(&app, "GET", "/serviceProviders/catalog", false, "").await;
    assert_eq!(status, 200);
    let provider = match catalog.subject_for_predicate_object(rdf_ns::r#type, oslc::ServiceProvider).unwrap() {
        oslc_core::oxrdf::NamedOrBlankNodeRef::NamedNode(n) => n.into_owned(),
        other => panic!("{other}"),
    };
    let (_, provider_doc, _) = call(&app, "GET", provider.as_str(), false, "").await;
    let factory = provider_doc.subject_for_predicate_object(rdf_ns::r#type, oslc::CreationFactory).unwrap();
    let creation = iri(provider_doc.object_for_subject_predicate(factory, oslc::creation).unwrap());
    let capability = provider_doc.subject_for_predicate_object(rdf_ns::r#type, oslc::QueryCapability).unwrap();
    let query_base = iri(provider_doc.object_for_subject_predicate(capability, oslc::queryBase).unwrap());

    // Auth on writes; the shape checked; then a job created.
    let job = format!("<> a <{JOB}> ; <http://purl.org/dc/terms/title> \"nightly build\" ; <{STATE}> \"running\" .");
    assert_eq!(call(&app, "POST", creation.as_str(), false, &job).await.0, 401);
    let (status, _, body) = call(&app, "POST", creation.as_str(), true, "<> a <http://ci.test/ns#Job> .").await;
    assert_eq!(status, 400, "the shape says a title is required: {body}");
    let (status, created, body) = call(&app, "POST", creation.as_str(), true, &job).await;
    assert_eq!(status, 201, "{body}");
    let job_iri = created.subject_for_predicate_object(rdf_ns::r#type, NamedNode::new_unchecked(JOB).as_ref());
    let job_iri = match job_iri.unwrap() {
        oslc_core::oxrdf::NamedOrBlankNodeRef::NamedNode(n) => n.into_owned(),
        other => panic!("{other}"),
    };

    // OSLC Query finds it.
    let url = format!("{}?oslc.where=dcterms:title=%22nightly%20build%22", query_base.as_str());
    let (status, page, _) = call(&app, "GET", &url, false, "").await;
    assert_eq!(status, 200);
    assert!(page.triples_for_predicate(rdfs::member).any(|t| t.object == job_iri.as_ref().into()));

    // The Cancel action, advertised while the job runs, followed through its binding.
    let (_, read, _) = call(&app, "GET", job_iri.as_str(), false, "").await;
    let action = iri(object(&read, &job_iri, oslc_core::actions::OSLC_ACTION));
    let binding = iri(object(&read, &action, oslc_core::actions::OSLC_BINDING));
    let target = iri(object(&read, &binding, oslc_core::vocab::http::requestURI));
    assert_eq!(call(&app, "POST", target.as_str(), false, "").await.0, 401, "actions are writes");
    let (status, after, body) = call(&app, "POST", target.as_str(), true, "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(object(&after, &job_iri, NamedNode::new_unchecked(STATE).as_ref()).to_string(), "\"canceled\"");
    assert!(
        after.object_for_subject_predicate(&job_iri, oslc_core::actions::OSLC_ACTION).is_none(),
        "no longer offered"
    );

    // Change events in the log and the TRS: created, then modified; the base lists the job.
    let events = log.read_forward(0, 10).await.unwrap();
    let kinds: Vec<ChangeKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [ChangeKind::Creation, ChangeKind::Modification]);
    let (status, trs_doc, body) = call(&app, "GET", "/trs", false, "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(trs_doc.triples_for_predicate(trs::changed).filter(|t| t.object == job_iri.as_ref().into()).count(), 2);
    let base = iri(trs_doc.triples_for_predicate(trs::base).next().unwrap().object);
    let (_, base_doc, _) = call(&app, "GET", base.as_str(), false, "").await;
    assert!(base_doc.triples_for_predicate(oslc_core::vocab::ldp::member).any(|t| t.object == job_iri.as_ref().into()));
}
