//! StackStorm actions and executions as OSLC Automation 2.1, through the adapter in front of the fake st2 over HTTP
//! (its REST client, as `--st2-url` runs): plans, a request that runs `core.noop` to complete + passed, a
//! `core.pause` cancelled with `oslc_auto:desiredState`, a re-run, bad requests refused without running anything, and
//! every resource carrying what the OASIS `automation-shapes.ttl` (read here) marks Exactly-one or One-or-many.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use adapter_stackstorm::app::{AppConfig, app};
use adapter_stackstorm::st2::{ExecutionStore, St2Auth, St2Client};
use axum::Router;
use axum::body::Body;
use http::Request;
use http_body_util::BodyExt;
use oslc_core::oxrdf::{Graph, NamedNodeRef, NamedOrBlankNodeRef, TermRef};
use oslc_core::rdf::{self, RdfFormat};
use oslc_core::vocab::{oslc, oslc_auto, rdf as rdf_ns};
use support::*;
use tower::ServiceExt;

const BASE: &str = "https://st2-oslc.test";
const PLANS: &str = "https://st2-oslc.test/serviceProviders/1/automationPlans";
const REQUESTS: &str = "https://st2-oslc.test/serviceProviders/1/automationRequests";
const RESULTS: &str = "https://st2-oslc.test/serviceProviders/1/automationResults";
const AUTH: (&str, &str) = ("authorization", "Bearer adapter-token");

struct Adapter {
    app: Router,
    st2: St2Client,
}

async fn adapter() -> Adapter {
    let st2 = Arc::new(adapter_stackstorm::demo::demo_store().await.unwrap());
    let addr = spawn_fake(st2).await;
    let client = St2Client::new(&format!("http://{addr}"), St2Auth::ApiKey(API_KEY.into())).unwrap();
    let config = AppConfig {
        public_url: BASE.into(),
        api_token: Some("adapter-token".into()),
        protect_reads: false,
        body_limit: 64 * 1024,
        frame_ancestors: Vec::new(),
        oidc: None,
        oidc_login: None,
        automation: Some(Arc::new(client.clone())),
    };
    Adapter { app: app(Arc::new(client.clone()), &config).unwrap(), st2: client }
}

struct Reply {
    status: u16,
    headers: http::HeaderMap,
    body: String,
}

impl Reply {
    fn graph(&self) -> Graph {
        let format = rdf::content_type_format(self.headers.get("content-type").and_then(|v| v.to_str().ok())).unwrap();
        rdf::parse(self.body.as_bytes(), format, BASE).unwrap()
    }
}

async fn call(app: &Router, method: &str, uri: &str, headers: &[(&str, &str)], body: impl Into<Body>) -> Reply {
    let mut request = Request::builder().method(method).uri(uri.strip_prefix(BASE).unwrap_or(uri));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = app.clone().oneshot(request.body(body.into()).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    Reply { status, headers, body }
}

async fn get(app: &Router, uri: &str) -> Reply {
    call(app, "GET", uri, &[("accept", "text/turtle")], Body::empty()).await
}

/// The object of `p` on `s`, as an IRI or a literal's text.
fn value(graph: &Graph, s: &str, p: NamedNodeRef<'_>) -> Option<String> {
    let s = oslc_core::oxrdf::NamedNode::new(s).unwrap();
    graph.object_for_subject_predicate(&s, p).map(|o| match o {
        TermRef::NamedNode(n) => n.as_str().to_owned(),
        TermRef::Literal(l) => l.value().to_owned(),
        other => other.to_string(),
    })
}

fn request_body(plan: &str, inputs: &[(&str, &str)]) -> String {
    let mut body = format!(
        "@prefix oslc_auto: <http://open-services.net/ns/auto#> .\n@prefix oslc: <http://open-services.net/ns/core#> .\n\
         @prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .\n<> a oslc_auto:AutomationRequest ;\n  \
         oslc_auto:executesAutomationPlan <{PLANS}/{plan}>"
    );
    for (name, value) in inputs {
        body.push_str(&format!(" ;\n  oslc_auto:inputParameter [ oslc:name \"{name}\" ; rdf:value {value} ]"));
    }
    body.push_str(" .\n");
    body
}

async fn run(app: &Router, plan: &str, inputs: &[(&str, &str)]) -> Reply {
    let headers = [AUTH, ("content-type", "text/turtle"), ("accept", "text/turtle")];
    call(app, "POST", REQUESTS, &headers, request_body(plan, inputs)).await
}

/// Polls the result until its state is `state` (within 10 s); its graph.
async fn result_when(app: &Router, result: &str, state: NamedNodeRef<'_>) -> Graph {
    wait_for_value("the result's state", 10, async || {
        let graph = get(app, result).await.graph();
        (value(&graph, result, oslc_auto::state).as_deref() == Some(state.as_str())).then_some(graph)
    })
    .await
}

#[tokio::test]
async fn a_request_runs_noop_to_complete_and_passed() {
    let a = adapter().await;
    // The plans are StackStorm's actions, in the service provider's Automation service.
    let plans = get(&a.app, PLANS).await;
    assert_eq!(plans.status, 200);
    assert!(plans.body.contains(&format!("<{PLANS}/core.noop>")), "{}", plans.body);
    let sp = get(&a.app, &format!("{BASE}/serviceProviders/1")).await.graph();
    assert!(
        sp.triples_for_predicate(oslc::domain)
            .any(|t| t.object == oslc_core::oxrdf::NamedNodeRef::new_unchecked(oslc_auto::NS).into())
    );

    let created = run(&a.app, "core.noop", &[]).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let request = created.headers["location"].to_str().unwrap().to_owned();
    assert!(request.starts_with(REQUESTS), "{request}");
    let id = request.rsplit('/').next().unwrap();
    assert_eq!(a.st2.execution(id).await.unwrap().action.reference, "core.noop", "st2 ran it");
    let request_graph = created.graph();
    assert_eq!(value(&request_graph, &request, oslc_auto::executesAutomationPlan), Some(format!("{PLANS}/core.noop")));

    let result = format!("{RESULTS}/{id}");
    let graph = result_when(&a.app, &result, oslc_auto::complete).await;
    assert_eq!(value(&graph, &result, oslc_auto::verdict).as_deref(), Some(oslc_auto::passed.as_str()));
    assert_eq!(value(&graph, &result, oslc_auto::reportsOnAutomationPlan), Some(format!("{PLANS}/core.noop")));
    assert_eq!(value(&graph, &result, oslc_auto::producedByAutomationRequest), Some(request.clone()));
    // The request's state follows the execution too.
    let request_graph = get(&a.app, &request).await.graph();
    assert_eq!(value(&request_graph, &request, oslc_auto::state).as_deref(), Some(oslc_auto::complete.as_str()));
}

#[tokio::test]
async fn a_pause_is_cancelled_with_desired_state() {
    let a = adapter().await;
    let created = run(&a.app, "core.pause", &[("max_pause", "60")]).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let request = created.headers["location"].to_str().unwrap().to_owned();
    let id = request.rsplit('/').next().unwrap().to_owned();
    let result = format!("{RESULTS}/{id}");
    result_when(&a.app, &result, oslc_auto::inProgress).await;
    // The input parameter as given, typed as the action declares it.
    assert_eq!(a.st2.execution(&id).await.unwrap().parameters["max_pause"], 60);

    // Anything but desiredState canceled is refused, and the execution goes on.
    let other = "<> <http://open-services.net/ns/auto#desiredState> <http://open-services.net/ns/auto#complete> .";
    let headers = [AUTH, ("content-type", "text/turtle"), ("accept", "text/turtle"), ("if-match", "*")];
    let refused = call(&a.app, "PUT", &request, &headers, other).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    let anonymous = "<> <http://open-services.net/ns/auto#desiredState> <http://open-services.net/ns/auto#canceled> .";
    let unauthenticated = call(&a.app, "PUT", &request, &headers[1..], anonymous).await;
    assert_eq!(unauthenticated.status, 401);
    assert!(!a.st2.execution(&id).await.unwrap().status().is_done(), "nothing changed");

    let canceled = call(&a.app, "PUT", &request, &headers, anonymous).await;
    assert_eq!(canceled.status, 200, "{}", canceled.body);
    let graph = result_when(&a.app, &result, oslc_auto::canceled).await;
    assert_eq!(value(&graph, &result, oslc_auto::verdict).as_deref(), Some(oslc_auto::unavailable.as_str()));
    let done = a.st2.wait_until_done(&id, Duration::from_secs(5)).await.unwrap();
    assert_eq!(done.status, "canceled");
    // A canceled execution no longer offers Cancel.
    let again =
        call(&a.app, "POST", &format!("{result}/cancel"), &[AUTH, ("accept", "text/turtle")], Body::empty()).await;
    assert_eq!(again.status, 409, "{}", again.body);

    // The result's Cancel action, as the pages' button runs it.
    let created = run(&a.app, "core.pause", &[("max_pause", "60")]).await;
    let id = created.headers["location"].to_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let result = format!("{RESULTS}/{id}");
    result_when(&a.app, &result, oslc_auto::inProgress).await;
    let cancel =
        call(&a.app, "POST", &format!("{result}/cancel"), &[AUTH, ("accept", "text/turtle")], Body::empty()).await;
    assert_eq!(cancel.status, 200, "{}", cancel.body);
    result_when(&a.app, &result, oslc_auto::canceled).await;
}

#[tokio::test]
async fn bad_requests_run_nothing_and_a_result_runs_again() {
    let a = adapter().await;
    let before = a.st2.executions(1000).await.unwrap().len();
    for (plan, inputs, why) in [
        ("core.nothing", vec![], "not a plan"),
        ("core.local", vec![], "cmd is required"),
        ("core.pause", vec![("max_pause", "\"soon\"")], "not an integer"),
        ("core.noop", vec![("unknown", "1")], "no such parameter"),
    ] {
        let reply = run(&a.app, plan, &inputs).await;
        assert_eq!(reply.status / 100, 4, "{why}: {}", reply.body);
    }
    let unauthenticated =
        call(&a.app, "POST", REQUESTS, &[("content-type", "text/turtle")], request_body("core.noop", &[])).await;
    assert_eq!(unauthenticated.status, 401);
    assert_eq!(a.st2.executions(1000).await.unwrap().len(), before, "nothing ran");

    let created = run(&a.app, "core.local", &[("cmd", "\"uptime\"")]).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.headers["location"].to_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let result = format!("{RESULTS}/{id}");
    let graph = result_when(&a.app, &result, oslc_auto::complete).await;
    // Its output: each member of st2's result an output parameter, stdout a contribution.
    let outputs = graph.triples_for_predicate(oslc_auto::outputParameter).count();
    assert!(outputs >= 3, "{outputs} output parameters");
    assert!(graph.triples_for_predicate(oslc_auto::contribution).count() >= 1);
    let again =
        call(&a.app, "POST", &format!("{result}/rerun"), &[AUTH, ("accept", "text/turtle")], Body::empty()).await;
    assert_eq!(again.status, 200, "{}", again.body);
    let executions = a.st2.executions(1000).await.unwrap();
    assert_eq!(executions.len(), before + 2);
    assert_eq!(executions[0].action.reference, "core.local");
    assert_eq!(executions[0].parameters["cmd"], "uptime");
}

/// class IRI → property IRIs its OASIS shape marks Exactly-one or One-or-many.
fn mandatory() -> Vec<(String, Vec<String>)> {
    let shapes = rdf::parse(
        include_bytes!("data/automation-shapes.ttl"),
        RdfFormat::Turtle,
        "http://open-services.net/ns/auto/shapes/2.1",
    )
    .unwrap();
    let mut out = Vec::new();
    for shape in shapes.subjects_for_predicate_object(rdf_ns::r#type, oslc::ResourceShape) {
        let Some(TermRef::NamedNode(class)) = shapes.object_for_subject_predicate(shape, oslc::describes) else {
            continue;
        };
        let mut properties = Vec::new();
        for property in shapes.objects_for_subject_predicate(shape, oslc::property) {
            let property: NamedOrBlankNodeRef<'_> = match property {
                TermRef::NamedNode(n) => n.into(),
                TermRef::BlankNode(b) => b.into(),
                _ => continue,
            };
            let occurs = shapes.object_for_subject_predicate(property, oslc::occurs);
            let required =
                matches!(occurs, Some(TermRef::NamedNode(o)) if o == oslc::Exactly_one || o == oslc::One_or_many);
            if let (true, Some(TermRef::NamedNode(definition))) =
                (required, shapes.object_for_subject_predicate(property, oslc::propertyDefinition))
            {
                properties.push(definition.as_str().to_owned());
            }
        }
        out.push((class.as_str().to_owned(), properties));
    }
    out
}

#[tokio::test]
async fn every_resource_carries_what_the_shapes_require() {
    let a = adapter().await;
    let created = run(&a.app, "pagerduty.create_incident", &[("api_key", "\"pd-1\""), ("title", "\"down\"")]).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let request = created.headers["location"].to_str().unwrap().to_owned();
    let id = request.rsplit('/').next().unwrap();
    let result = format!("{RESULTS}/{id}");
    // Secret parameters are never shown.
    assert!(!created.body.contains("pd-1"), "{}", created.body);
    let shapes = mandatory();
    let mut checked = 0;
    for (class, subject) in [
        (oslc_auto::AutomationPlan, format!("{PLANS}/pagerduty.create_incident")),
        (oslc_auto::AutomationRequest, request.clone()),
        (oslc_auto::AutomationResult, result.clone()),
    ] {
        let reply = get(&a.app, &subject).await;
        assert_eq!(reply.status, 200);
        assert!(!reply.body.contains("pd-1"), "{}", reply.body);
        let graph = reply.graph();
        let (_, properties) = shapes.iter().find(|(c, _)| c == class.as_str()).expect("a shape for each class");
        assert!(!properties.is_empty());
        for property in properties {
            let p = NamedNodeRef::new(property).unwrap();
            assert!(value(&graph, &subject, p).is_some(), "{subject} has no {property}");
            checked += 1;
        }
        // And the parameter instances: each has its name.
        for triple in graph.triples_for_predicate(oslc_auto::inputParameter) {
            let node: NamedOrBlankNodeRef<'_> = match triple.object {
                TermRef::BlankNode(b) => b.into(),
                TermRef::NamedNode(n) => n.into(),
                _ => panic!(),
            };
            assert!(graph.object_for_subject_predicate(node, oslc::name).is_some());
        }
    }
    assert!(checked >= 11, "{checked} properties checked");
}

/// Each plan offers its OSLC Action in the automation-request pattern: an `http:Request` whose `http:body` is an
/// `oslc_auto:AutomationRequest` and whose `oslc:finalStatusLocation` is `oslc_auto:AutomationResult`. Run by an
/// OSLC client (as the reactor runs actions) over HTTP, it starts the action.
#[tokio::test]
async fn a_plan_offers_its_action_in_the_automation_request_pattern() {
    let a = adapter().await;
    let plan = format!("{PLANS}/core.noop");
    let graph = get(&a.app, &plan).await.graph();
    let actions = oslc_core::actions::Action::read_all(&graph, NamedNodeRef::new(&plan).unwrap());
    let run = actions.iter().find(|action| action.name() == "run").expect("the plan's run action");
    let binding = run.binding().unwrap();
    assert_eq!(binding.method, "POST");
    assert_eq!(binding.uri.as_str(), REQUESTS);
    assert_eq!(binding.final_status_location.as_ref().map(|n| n.as_str()), Some(oslc_auto::AutomationResult.as_str()));
    let body = binding.body_resource.as_ref().expect("http:body is a resource");
    assert!(body.has_type(oslc_auto::AutomationRequest));

    // Served on loopback, the action runs through the OSLC client.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = a.app.clone();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut action = run.clone();
    let mut local = binding.clone();
    local.uri = oslc_core::oxrdf::NamedNode::new(REQUESTS.replace(BASE, &format!("http://{addr}"))).unwrap();
    action.bindings = vec![local];
    let client = oslc_core::client::Client::new()
        .unwrap()
        .with_credential(format!("http://{addr}/"), oslc_core::client::Credential::Bearer("adapter-token".into()));
    let before = a.st2.executions(1000).await.unwrap().len();
    let location = client.run_action(&action).await.unwrap().expect("the request's Location");
    assert!(location.starts_with(REQUESTS), "{location}");
    let executions = a.st2.executions(1000).await.unwrap();
    assert_eq!(executions.len(), before + 1);
    assert_eq!(executions[0].action.reference, "core.noop");
}
