//! The adapter's HTTP endpoints, end to end: OSLC client → adapter → st2 client → fake st2 (over loopback HTTP) →
//! simulated StackStorm. Each endpoint in Turtle, RDF/XML and JSON-LD; creation, ETags, errors, auth, actions.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use adapter_stackstorm::st2::{RuleStore, SimulatedSt2, St2Auth, St2Client};
use adapter_stackstorm::{AppConfig, app};
use axum::Router;
use axum::body::Body;
use http::Request;
use http_body_util::BodyExt;
use oslc_core::oxrdf::{Graph, NamedNode, NamedOrBlankNodeRef, TermRef};
use oslc_core::rdf::{self, FORMATS, RdfFormat};
use oslc_core::vocab::{dcterms, http as http_ns, oslc, oslc_actions, rdf as rdf_ns};
use support::*;
use tower::ServiceExt;

const BASE: &str = "http://st2-oslc.test";
const RULES: &str = "http://st2-oslc.test/serviceProviders/1/changeRequests";
const ADAPTER_TOKEN: &str = "adapter-token";

struct Adapter {
    app: Router,
    st2: Arc<SimulatedSt2<adapter_stackstorm::st2::MemoryBackend>>,
}

/// The adapter in front of the fake st2 (seeded with the demo rules) over HTTP.
async fn adapter() -> Adapter {
    let st2 = Arc::new(adapter_stackstorm::demo::demo_store().await.unwrap());
    let addr = spawn_fake(st2.clone()).await;
    let client = St2Client::new(&format!("http://{addr}"), St2Auth::ApiKey(API_KEY.into())).unwrap();
    let config = AppConfig {
        public_url: BASE.into(),
        api_token: Some(ADAPTER_TOKEN.into()),
        protect_reads: false,
        body_limit: 64 * 1024,
        frame_ancestors: Vec::new(),
        oidc: None,
        oidc_login: None,
        automation: None,
    };
    Adapter { app: app(Arc::new(client), &config).unwrap(), st2 }
}

struct Reply {
    status: u16,
    headers: http::HeaderMap,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    fn graph(&self) -> Graph {
        let format = rdf::content_type_format(self.header("content-type")).unwrap();
        rdf::parse(self.body.as_bytes(), format, BASE).unwrap()
    }
    fn error_message(&self) -> String {
        let graph = self.graph();
        let node = graph.subject_for_predicate_object(rdf_ns::r#type, oslc::Error).expect("an oslc:Error");
        match graph.object_for_subject_predicate(node, oslc::message) {
            Some(TermRef::Literal(l)) => l.value().to_owned(),
            other => panic!("{other:?}"),
        }
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

const AUTH: (&str, &str) = ("authorization", "Bearer adapter-token");

async fn rule_id(app: &Router, reference: &str) -> String {
    let reply = call(
        app,
        "GET",
        &format!("{RULES}?oslc.where=st2:ref=%22{reference}%22&oslc.select=dcterms:identifier"),
        &[],
        Body::empty(),
    )
    .await;
    let graph = reply.graph();
    let id = graph.triples_for_predicate(dcterms::identifier).next().expect(reference).object;
    match id {
        TermRef::Literal(l) => l.value().to_owned(),
        _ => panic!(),
    }
}

const NEW_RULE: &str = r#"@prefix st2: <https://w3id.org/st2-oslc/ns#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
<> a st2:Rule ; dcterms:title "restart_on_failure" ; st2:pack "ops" ; st2:enabled true ;
   dcterms:description "Restart the service when its health check fails." ;
   st2:triggerType "core.st2.webhook" ; st2:triggerParameters "{\"url\": \"health\"}"^^rdf:JSON ;
   st2:criteria "{\"trigger.body.status\": {\"type\": \"equals\", \"pattern\": \"failed\"}}"^^rdf:JSON ;
   st2:actionRef "core.remote" ; st2:actionParameters "{\"hosts\": \"web1\", \"cmd\": \"systemctl restart web\"}"^^rdf:JSON ."#;

#[tokio::test]
async fn every_endpoint_in_turtle_rdfxml_and_jsonld() {
    let a = adapter().await;
    let id = rule_id(&a.app, "examples.sample_rule_with_timer").await;
    let paths = [
        "/serviceProviders/catalog".to_owned(),
        "/serviceProviders/1".to_owned(),
        "/serviceProviders/1/changeRequests".to_owned(),
        "/serviceProviders/1/changeRequests?oslc.select=*".to_owned(),
        format!("/serviceProviders/1/changeRequests/{id}"),
        "/resourceShapes/1/changeRequests".to_owned(),
        // The vocabulary is negotiated like everything else (point 15).
        "/vocab".to_owned(),
    ];
    for path in &paths {
        for format in [RdfFormat::Turtle, RdfFormat::RdfXml, FORMATS[1]] {
            let reply = call(&a.app, "GET", path, &[("accept", format.media_type())], Body::empty()).await;
            assert_eq!(reply.status, 200, "{path} {}", format.name());
            assert_eq!(reply.header("content-type"), Some(format.media_type()));
            assert!(!reply.graph().is_empty(), "{path} {}", format.name());
        }
    }
    let rule = call(&a.app, "GET", &format!("{RULES}/{id}"), &[("accept", "application/rdf+xml")], Body::empty()).await;
    let graph = rule.graph();
    let subject = NamedNode::new(format!("{RULES}/{id}")).unwrap();
    let title = graph.object_for_subject_predicate(subject.as_ref(), dcterms::title).unwrap();
    assert_eq!(title.to_string(), "\"sample_rule_with_timer\"");
    assert_eq!(call(&a.app, "GET", "/healthz", &[], Body::empty()).await.status, 200);
    let vocab = call(&a.app, "GET", "/vocab", &[], Body::empty()).await;
    assert!(vocab.body.contains("st2:triggerType"));
    let in_xml = call(&a.app, "GET", "/vocab", &[("accept", "application/rdf+xml")], Body::empty()).await;
    let term = NamedNode::new(format!("{}triggerType", adapter_stackstorm::oslc::vocab::NS)).unwrap();
    assert!(in_xml.graph().triples_for_subject(term.as_ref()).count() >= 3, "{}", in_xml.body);
    let etag = vocab.header("etag").expect("an ETag").to_owned();
    let again = call(&a.app, "GET", "/vocab", &[("if-none-match", &etag)], Body::empty()).await;
    assert_eq!(again.status, 304);
}

#[tokio::test]
async fn create_read_replace_delete_through_st2() {
    let a = adapter().await;
    let created = call(&a.app, "POST", RULES, &[AUTH, ("content-type", "text/turtle")], NEW_RULE).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let location = created.header("location").unwrap().to_owned();
    let id = location.rsplit('/').next().unwrap().to_owned();
    let stored = a.st2.get("ops.restart_on_failure", true).await.unwrap();
    assert_eq!(stored.id.as_deref(), Some(id.as_str()));
    assert!(stored.enabled);
    assert_eq!(stored.action.parameters["cmd"], "systemctl restart web");
    assert_eq!(stored.criteria["trigger.body.status"]["pattern"], "failed");

    let etag = created.header("etag").unwrap().to_owned();
    let read = call(&a.app, "GET", &location, &[], Body::empty()).await;
    assert_eq!(read.header("etag"), Some(etag.as_str()));

    // A stale ETag: 412, and st2 untouched.
    let changed = NEW_RULE.replace("Restart the service", "Restart the web service");
    let stale = call(
        &a.app,
        "PUT",
        &location,
        &[AUTH, ("content-type", "text/turtle"), ("if-match", "\"stale\"")],
        changed.clone(),
    )
    .await;
    assert_eq!(stale.status, 412);
    assert_eq!(a.st2.get(&id, true).await.unwrap(), stored);
    // No If-Match: 400, st2 untouched.
    let bare = call(&a.app, "PUT", &location, &[AUTH, ("content-type", "text/turtle")], changed.clone()).await;
    assert_eq!(bare.status, 400);
    assert_eq!(a.st2.get(&id, true).await.unwrap(), stored);
    let put =
        call(&a.app, "PUT", &location, &[AUTH, ("content-type", "text/turtle"), ("if-match", &etag)], changed).await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(
        a.st2.get(&id, true).await.unwrap().description.as_deref(),
        Some("Restart the web service when its health check fails.")
    );
    assert_ne!(put.header("etag"), Some(etag.as_str()));

    let deleted = call(&a.app, "DELETE", &location, &[AUTH], Body::empty()).await;
    assert_eq!(deleted.status, 204);
    assert!(a.st2.get(&id, false).await.is_err());
    let gone = call(&a.app, "GET", &location, &[], Body::empty()).await;
    assert_eq!(gone.status, 404);
    assert!(gone.error_message().contains(&id));
}

#[tokio::test]
async fn bad_requests_change_nothing() {
    let a = adapter().await;
    let before = a.st2.list(None).await.unwrap();

    // Malformed Turtle: 400 naming the position.
    let broken = call(&a.app, "POST", RULES, &[AUTH, ("content-type", "text/turtle")], "<> a <x ;").await;
    assert_eq!(broken.status, 400);
    assert!(broken.error_message().contains("line 1"), "{}", broken.error_message());
    // A rule st2 refuses: 400 with st2's own message.
    let bad_operator = NEW_RULE.replace("\\\"equals\\\"", "\\\"foo\\\"");
    let refused = call(&a.app, "POST", RULES, &[AUTH, ("content-type", "text/turtle")], bad_operator).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.error_message().contains("operator foo not in list of allowed operators"),
        "{}",
        refused.error_message()
    );
    // A rule whose name is taken: 409.
    let taken = NEW_RULE.replace("restart_on_failure", "page_on_critical_alert");
    assert_eq!(call(&a.app, "POST", RULES, &[AUTH, ("content-type", "text/turtle")], taken).await.status, 409);
    // Missing properties the adapter needs: 400 naming them.
    let nameless = call(
        &a.app,
        "POST",
        RULES,
        &[AUTH, ("content-type", "text/turtle")],
        "<> <https://w3id.org/st2-oslc/ns#pack> \"ops\" .",
    )
    .await;
    assert_eq!(nameless.status, 400);
    assert!(nameless.error_message().contains("http://purl.org/dc/terms/title"), "{}", nameless.error_message());
    assert!(nameless.error_message().contains("exactly once"), "{}", nameless.error_message());
    assert_eq!(
        nameless.header("link"),
        Some("<http://st2-oslc.test/resourceShapes/1/changeRequests>; rel=\"http://www.w3.org/ns/ldp#constrainedBy\""),
        "a refused body names the shape it broke"
    );
    // A value of the wrong type: 400 naming the property (st2:enabled "maybe" used to disable the rule).
    let maybe = NEW_RULE.replace("st2:enabled true", "st2:enabled \"maybe\"");
    let refused = call(&a.app, "POST", RULES, &[AUTH, ("content-type", "text/turtle")], maybe).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.error_message().contains("enabled"), "{}", refused.error_message());
    // Writes without the token: 401, nothing happens.
    for (method, uri) in [
        ("POST", RULES.to_owned()),
        ("DELETE", format!("{RULES}/{}", rule_id(&a.app, "ops.nightly_cleanup").await)),
        ("POST", "/actions".to_owned()),
    ] {
        let reply = call(&a.app, method, &uri, &[("content-type", "text/turtle")], NEW_RULE).await;
        assert_eq!(reply.status, 401, "{method} {uri}");
        assert!(reply.header("www-authenticate").is_some());
        let wrong =
            call(&a.app, method, &uri, &[("content-type", "text/turtle"), ("authorization", "Bearer nope")], NEW_RULE)
                .await;
        assert_eq!(wrong.status, 401);
    }
    // Unknown rules: 404, for an ObjectId st2 does not have and for something that is not an id.
    for missing in ["58e43d58c4da5f35c286a81f", "examples.sample_rule_with_timer", "1"] {
        assert_eq!(
            call(&a.app, "GET", &format!("{RULES}/{missing}"), &[], Body::empty()).await.status,
            404,
            "{missing}"
        );
    }
    assert_eq!(a.st2.list(None).await.unwrap(), before);
}

#[tokio::test]
async fn st2_unreachable_gives_502() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = St2Client::new(&format!("http://{addr}"), St2Auth::ApiKey(API_KEY.into())).unwrap();
    let config = AppConfig {
        public_url: BASE.into(),
        api_token: Some(ADAPTER_TOKEN.into()),
        protect_reads: false,
        body_limit: 4096,
        frame_ancestors: Vec::new(),
        oidc: None,
        oidc_login: None,
        automation: None,
    };
    let app = app(Arc::new(client), &config).unwrap();
    for (method, uri, body) in [
        ("GET", RULES, ""),
        ("GET", &format!("{RULES}/58e43d58c4da5f35c286a81f") as &str, ""),
        ("POST", RULES, NEW_RULE),
    ] {
        let reply = call(&app, method, uri, &[AUTH, ("content-type", "text/turtle")], body.to_owned()).await;
        assert_eq!(reply.status, 502, "{method} {uri}");
        assert!(reply.error_message().contains("StackStorm"), "{}", reply.error_message());
    }
}

#[tokio::test]
async fn secret_parameters_are_never_shown_and_survive_updates() {
    let a = adapter().await;
    let id = rule_id(&a.app, "ops.page_on_critical_alert").await;
    let location = format!("{RULES}/{id}");
    let read = call(&a.app, "GET", &location, &[], Body::empty()).await;
    assert!(!read.body.contains("pd-demo"), "{}", read.body);
    assert!(read.body.contains("********"));
    // Send back what was read (secret masked), changed only in its description.
    let etag = read.header("etag").unwrap().to_owned();
    let mut graph = read.graph();
    let subject = NamedNode::new(&location).unwrap();
    let old: Vec<_> = graph
        .triples_for_subject(subject.as_ref())
        .filter(|t| t.predicate == dcterms::description)
        .map(|t| t.into_owned())
        .collect();
    for t in &old {
        graph.remove(t);
    }
    graph.insert(oslc_core::oxrdf::TripleRef::new(
        &subject,
        dcterms::description,
        &oslc_core::oxrdf::Literal::new_simple_literal("now with context"),
    ));
    let body = rdf::serialize(&graph, RdfFormat::Turtle, &oslc_core::vocab::standard_prefixes()).unwrap();
    let put = call(&a.app, "PUT", &location, &[AUTH, ("content-type", "text/turtle"), ("if-match", &etag)], body).await;
    assert_eq!(put.status, 200, "{}", put.body);
    let stored = a.st2.get(&id, true).await.unwrap();
    assert_eq!(
        stored.action.parameters["api_key"], "pd-demo-0123456789",
        "the masked value did not overwrite the secret"
    );
    assert_eq!(stored.description.as_deref(), Some("now with context"));
}

/// The action advertised on a rule whose title starts with `verb`: (method, request URI).
fn action_binding(graph: &Graph, rule: &NamedNode, verb: &str) -> Option<(String, String)> {
    graph.objects_for_subject_predicate(rule.as_ref(), oslc_actions::action).find_map(|action| {
        let action: NamedOrBlankNodeRef<'_> = match action {
            TermRef::NamedNode(n) => n.into(),
            TermRef::BlankNode(b) => b.into(),
            _ => return None,
        };
        let title = graph.object_for_subject_predicate(action, dcterms::title)?.to_string();
        if !title.starts_with(&format!("\"{verb}")) {
            return None;
        }
        let binding = match graph.object_for_subject_predicate(action, oslc_actions::binding)? {
            TermRef::BlankNode(b) => NamedOrBlankNodeRef::from(b),
            TermRef::NamedNode(n) => NamedOrBlankNodeRef::from(n),
            _ => return None,
        };
        let method = graph.object_for_subject_predicate(binding, http_ns::mthd)?.to_string();
        let uri = graph.object_for_subject_predicate(binding, http_ns::requestURI)?.to_string();
        Some((method.trim_matches(['<', '>']).rsplit('#').next()?.to_owned(), uri.trim_matches(['<', '>']).to_owned()))
    })
}

#[tokio::test]
async fn advertised_actions_work_when_followed() {
    let a = adapter().await;
    let id = rule_id(&a.app, "examples.sample_rule_with_timer").await;
    let rule = NamedNode::new(format!("{RULES}/{id}")).unwrap();
    let graph = call(&a.app, "GET", rule.as_str(), &[], Body::empty()).await.graph();
    assert!(action_binding(&graph, &rule, "Disable").is_none(), "a disabled rule offers no disable");
    let (method, uri) = action_binding(&graph, &rule, "Enable").expect("an enable action");
    let reply = call(&a.app, &method, &uri, &[AUTH], Body::empty()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(a.st2.get(&id, false).await.unwrap().enabled);

    let graph = call(&a.app, "GET", rule.as_str(), &[], Body::empty()).await.graph();
    assert!(action_binding(&graph, &rule, "Enable").is_none());
    let (method, uri) = action_binding(&graph, &rule, "Disable").expect("a disable action");
    assert_eq!(call(&a.app, &method, &uri, &[AUTH], Body::empty()).await.status, 200);
    assert!(!a.st2.get(&id, false).await.unwrap().enabled);

    let (method, uri) = action_binding(&graph, &rule, "Delete").expect("a delete action");
    assert_eq!(call(&a.app, &method, &uri, &[AUTH], Body::empty()).await.status, 204);
    assert!(a.st2.get(&id, false).await.is_err());
}

/// The original adapter's `action-example.rdf` bodies, as its users sent them.
const ORIGINAL_CREATE: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF
	xmlns:dcterms="http://purl.org/dc/terms/"
	xmlns:ns1="http://open-services.net/ns/core#"
	xmlns:ns2="http://localhost:5001/ns/st2_oslc#"
	xmlns:ns3="http://open-services.net/ns/cm#"
	xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
>
	<rdf:Description rdf:type="http://localhost:5000/service/CreateRuleAction">
		<rdf:type rdf:resource="http://open-services.net/ns/cm#ChangeRequest"/>
		<ns2:ruleId></ns2:ruleId>
		<ns2:ruleTitle>creada_manual2</ns2:ruleTitle>
		<ns2:ruleStatus rdf:datatype="http://www.w3.org/2001/XMLSchema#boolean">true</ns2:ruleStatus>
		<ns2:triggerRef>core.st2.generic.notifytrigger</ns2:triggerRef>
		<ns2:triggerType>core.st2.generic.notifytrigger</ns2:triggerType>
		<ns2:actionRef>chatops.notify</ns2:actionRef>
	</rdf:Description>
</rdf:RDF>"#;

const ORIGINAL_UPDATE: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF
	xmlns:ns1="http://open-services.net/ns/core#"
	xmlns:ns2="http://localhost:5001/ns/st2_oslc#"
	xmlns:ns3="http://open-services.net/ns/cm#"
	xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
>
	<rdf:Description rdf:type="http://localhost:5000/service/UpdateRuleAction">
		<rdf:type rdf:resource="http://open-services.net/ns/cm#ChangeRequest"/>
		<ns2:ruleId>RULE_ID</ns2:ruleId>
	</rdf:Description>
</rdf:RDF>"#;

#[tokio::test]
async fn the_original_action_bodies_do_what_they_say() {
    let a = adapter().await;
    let rdfxml = [AUTH, ("content-type", "application/rdf+xml")];
    let created = call(&a.app, "POST", "/actions", &rdfxml, ORIGINAL_CREATE).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let rule = a.st2.get("default.creada_manual2", false).await.unwrap();
    assert!(rule.enabled);
    assert_eq!(rule.action.reference, "chatops.notify");
    assert_eq!(rule.trigger.trigger_type, "core.st2.generic.notifytrigger");
    let id = rule.id.clone().unwrap();
    assert_eq!(created.header("location"), Some(format!("{RULES}/{id}").as_str()));
    assert!(created.body.contains("created"));

    // UpdateRuleAction switches the rule off, then on again, as the original did.
    let update = ORIGINAL_UPDATE.replace("RULE_ID", &id);
    assert_eq!(call(&a.app, "POST", "/actions", &rdfxml, update.clone()).await.status, 200);
    assert!(!a.st2.get(&id, false).await.unwrap().enabled);
    let again = call(&a.app, "POST", "/actions", &rdfxml, update.clone()).await;
    assert_eq!(again.status, 200);
    assert!(again.body.contains("enabled"));
    assert!(a.st2.get(&id, false).await.unwrap().enabled);

    let delete = update.replace("UpdateRuleAction", "DeleteRuleAction");
    let deleted = call(&a.app, "POST", "/actions", &rdfxml, delete).await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert!(a.st2.get(&id, false).await.is_err());

    // The same in Turtle, with this adapter's vocabulary.
    let turtle = format!(
        "@prefix st2: <https://w3id.org/st2-oslc/ns#> .\n[] a <urn:x:DisableRuleAction> ; st2:ruleId \"{}\" .",
        rule_id(&a.app, "chatops.notify").await
    );
    let disabled = call(&a.app, "POST", "/actions", &[AUTH, ("content-type", "text/turtle")], turtle).await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert!(!a.st2.get("chatops.notify", false).await.unwrap().enabled);

    // A body naming no action, or a rule that does not exist: 400 / 404, and nothing changes.
    let before = a.st2.list(None).await.unwrap();
    assert_eq!(
        call(&a.app, "POST", "/actions", &[AUTH, ("content-type", "text/turtle")], "<a> <b> <c> .").await.status,
        400
    );
    let unknown = ORIGINAL_UPDATE.replace("RULE_ID", "58e43d58c4da5f35c286a81f");
    assert_eq!(call(&a.app, "POST", "/actions", &rdfxml, unknown).await.status, 404);
    assert_eq!(a.st2.list(None).await.unwrap(), before);
}

#[tokio::test]
async fn conditional_writes_through_st2_are_atomic() {
    let a = adapter().await;
    let id = rule_id(&a.app, "chatops.notify").await;
    let location = format!("{RULES}/{id}");
    // 50 PUTs with the same ETag at once: exactly one wins, the others get 412.
    let read = call(&a.app, "GET", &location, &[("accept", "text/turtle")], Body::empty()).await;
    let etag = read.header("etag").unwrap().to_owned();
    let mut puts = Vec::new();
    for i in 0..50 {
        let app = a.app.clone();
        let (location, etag) = (location.clone(), etag.clone());
        let body = read.body.replace("Notification rule", &format!("Notification rule (edit {i})"));
        assert_ne!(body, read.body, "the edit changes the description");
        puts.push(tokio::spawn(async move {
            let headers = [AUTH, ("content-type", "text/turtle"), ("if-match", etag.as_str())];
            call(&app, "PUT", &location, &headers, body).await.status
        }));
    }
    let mut statuses = Vec::new();
    for put in puts {
        statuses.push(put.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 412).count(), 49, "{statuses:?}");

    // A PUT racing an enable: never does one of the two changes get lost.
    for trial in 0..20 {
        assert_eq!(call(&a.app, "POST", &format!("{location}/disable"), &[AUTH], Body::empty()).await.status, 200);
        let read = call(&a.app, "GET", &location, &[("accept", "text/turtle")], Body::empty()).await;
        let etag = read.header("etag").unwrap().to_owned();
        let marker = format!("trial {trial}");
        let body = read.body.replace("Notification rule", &format!("Notification rule {marker}"));
        let (app, put_location) = (a.app.clone(), location.clone());
        let put = tokio::spawn(async move {
            let headers = [AUTH, ("content-type", "text/turtle"), ("if-match", etag.as_str())];
            call(&app, "PUT", &put_location, &headers, body).await.status
        });
        let enabled = call(&a.app, "POST", &format!("{location}/enable"), &[AUTH], Body::empty()).await.status;
        let put = put.await.unwrap();
        assert_eq!(enabled, 200);
        let now = a.st2.get(&id, false).await.unwrap();
        assert!(now.enabled, "trial {trial}: the PUT (status {put}) undid the enable");
        let edited = now.description.as_deref().unwrap_or_default().contains(&marker);
        assert_eq!(edited, put == 200, "trial {trial}: PUT answered {put} but edited = {edited}");
    }
}

#[tokio::test]
async fn an_actions_body_is_checked_whole_before_anything_runs() {
    let a = adapter().await;
    let before = a.st2.list(None).await.unwrap();
    let turtle = [AUTH, ("content-type", "text/turtle")];
    let notify = rule_id(&a.app, "chatops.notify").await;
    let prefix = "@prefix st2: <https://w3id.org/st2-oslc/ns#> . @prefix dcterms: <http://purl.org/dc/terms/> .\n";
    // A valid disable, then one naming a rule that does not exist: 404, and the first did not run.
    let body = format!(
        "{prefix}[] a <urn:x:DisableRuleAction> ; st2:ruleId \"{notify}\" .\n\
         [] a <urn:x:EnableRuleAction> ; st2:ruleId \"58e43d58c4da5f35c286a81f\" ."
    );
    assert_eq!(call(&a.app, "POST", "/actions", &turtle, body).await.status, 404);
    // "maybe" is not a status.
    let body = format!("{prefix}[] a <urn:x:UpdateRuleAction> ; st2:ruleId \"{notify}\" ; st2:enabled \"maybe\" .");
    let reply = call(&a.app, "POST", "/actions", &turtle, body).await;
    assert_eq!(reply.status, 400);
    assert!(reply.error_message().contains("maybe"), "{}", reply.error_message());
    // Two creations of one rule, and a creation of a rule that exists: 409.
    let create = |name: &str| {
        format!(
            "[] a <urn:x:CreateRuleAction> ; dcterms:title \"{name}\" ; st2:pack \"ops\" ; \
             st2:triggerType \"core.st2.generic.notifytrigger\" ; st2:actionRef \"core.noop\" .\n"
        )
    };
    let twice = format!("{prefix}{}{}", create("dup"), create("dup"));
    assert_eq!(call(&a.app, "POST", "/actions", &turtle, twice).await.status, 409);
    let existing = before.rules[0].clone();
    let clash = format!("{prefix}{}", create("fresh"))
        + &create(&existing.name).replace("\"ops\"", &format!("\"{}\"", existing.pack));
    assert_eq!(call(&a.app, "POST", "/actions", &turtle, clash).await.status, 409);
    // More actions than a body may hold.
    let many: String = (0..101).map(|i| create(&format!("bulk_{i}"))).collect();
    let reply = call(&a.app, "POST", "/actions", &turtle, format!("{prefix}{many}")).await;
    assert_eq!(reply.status, 400);
    assert!(reply.error_message().contains("rule actions in one body exceeds the limit of 100"));
    assert_eq!(a.st2.list(None).await.unwrap(), before, "nothing changed");
}

#[tokio::test]
async fn the_authorization_scheme_is_case_insensitive() {
    let a = adapter().await;
    let id = rule_id(&a.app, "chatops.notify").await;
    for (value, action) in [
        ("BEARER adapter-token", "disable"),
        ("bearer   adapter-token", "enable"),
        // HTTP Basic with the token as the password, whatever the user name (base64 of "oslc-client:adapter-token").
        ("Basic b3NsYy1jbGllbnQ6YWRhcHRlci10b2tlbg==", "disable"),
        ("Bearer adapter-token ", "enable"),
        ("Bearer adapter-token", "disable"),
    ] {
        let reply =
            call(&a.app, "POST", &format!("{RULES}/{id}/{action}"), &[("authorization", value)], Body::empty()).await;
        assert_eq!(reply.status, 200, "{value:?}: {}", reply.body);
    }
    for value in ["Basic adapter-token", "Bearer", "Bearer wrong", "adapter-token"] {
        let reply =
            call(&a.app, "POST", &format!("{RULES}/{id}/enable"), &[("authorization", value)], Body::empty()).await;
        assert_eq!(reply.status, 401, "{value:?}");
    }
    assert!(!a.st2.get(&id, false).await.unwrap().enabled, "no refused request changed anything");
}

#[tokio::test]
async fn cors_on_every_route_and_on_401_with_the_requested_headers_allowed() {
    let Adapter { app, .. } = adapter().await;
    let origin = ("origin", "https://elm.example");
    let preflight = call(
        &app,
        "OPTIONS",
        RULES,
        &[
            origin,
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "configuration-context, x-jazz-csrf-prevent, oslc-core-version"),
        ],
        Body::empty(),
    )
    .await;
    assert_eq!(preflight.status, 200);
    let allowed = preflight.header("access-control-allow-headers").unwrap_or_default().to_ascii_lowercase();
    for name in ["configuration-context", "x-jazz-csrf-prevent", "oslc-core-version"] {
        assert!(allowed.contains(name), "{name} not in {allowed}");
    }
    // A write without the token: the 401 still carries CORS, and exposes the challenge.
    let refused = call(&app, "POST", RULES, &[origin, ("content-type", "text/turtle")], "<> a <x:y> .").await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.header("access-control-allow-origin"), Some("*"));
    assert!(refused.header("access-control-expose-headers").unwrap_or_default().contains("www-authenticate"));
    // The OSLC routes, the open ones (readiness, the event schema) and a path no route has (this app has no TRS):
    // CORS on each, and each counted in /metrics by its route.
    for path in ["/vocab", "/serviceProviders/catalog", "/readyz", "/events/v1/schema.json", "/no/such"] {
        let reply =
            call(&app, "GET", &format!("{BASE}{path}"), &[origin, ("accept", "text/turtle")], Body::empty()).await;
        assert_eq!(reply.header("access-control-allow-origin"), Some("*"), "{path}");
        assert_eq!(reply.status == 404, path == "/no/such", "{path}: {}", reply.status);
    }
    let metrics = call(&app, "GET", "/metrics", &[], Body::empty()).await;
    assert_eq!(metrics.status, 200);
    for counted in [r#"route="/vocab",status="200""#, r#"route="/readyz",status="200""#, r#"status="401""#] {
        assert!(metrics.body.contains(counted), "{counted} not counted:\n{}", metrics.body);
    }
    assert!(metrics.body.contains(r#"route="unmatched",status="404""#), "the 404 not counted:\n{}", metrics.body);
    // A configuration context is tolerated (Configuration 1.1), as header and as parameter.
    let reply = call(
        &app,
        "GET",
        &format!("{RULES}?oslc_config.context=https%3A%2F%2Fcm.example%2Fstream%2F1"),
        &[("accept", "text/turtle"), ("configuration-context", "https://cm.example/stream/1")],
        Body::empty(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[tokio::test]
async fn titles_and_descriptions_sent_as_xml_literals_are_read_as_text() {
    let a = adapter().await;
    let body = NEW_RULE
        .replace(r#"dcterms:title "restart_on_failure""#, r#"dcterms:title "restart_on_failure"^^rdf:XMLLiteral"#)
        .replace(
            r#"dcterms:description "Restart the service when its health check fails.""#,
            r#"dcterms:description "Restart <b>the service</b> when &lt;health&gt; fails."^^rdf:XMLLiteral"#,
        );
    let created = call(&a.app, "POST", RULES, &[AUTH, ("content-type", "text/turtle")], body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let stored = a.st2.get("ops.restart_on_failure", true).await.unwrap();
    assert_eq!(stored.name, "restart_on_failure");
    assert_eq!(stored.description.as_deref(), Some("Restart the service when <health> fails."));
}

#[tokio::test]
async fn the_rule_shape_is_exact_defaults_apply_and_read_only_properties_conflict() {
    let a = adapter().await;
    // The shape says what a create may leave out: enabled and pack have defaults; literal properties range over
    // their value type, not oslc:Any.
    let shape = call(&a.app, "GET", "/resourceShapes/1/changeRequests", &[], Body::empty()).await;
    let graph = shape.graph();
    let property = |definition: &str| {
        graph
            .subjects_for_predicate_object(oslc::propertyDefinition, NamedNode::new(definition).unwrap().as_ref())
            .next()
            .unwrap_or_else(|| panic!("{definition} in the shape"))
    };
    let enabled = property("https://w3id.org/st2-oslc/ns#enabled");
    assert_eq!(
        graph.object_for_subject_predicate(enabled, oslc::defaultValue).map(|t| t.to_string()).as_deref(),
        Some("\"false\"^^<http://www.w3.org/2001/XMLSchema#boolean>")
    );
    let title = property("http://purl.org/dc/terms/title");
    assert_eq!(
        graph.object_for_subject_predicate(title, oslc::range).map(|t| t.to_string()).as_deref(),
        Some("<http://www.w3.org/2001/XMLSchema#string>")
    );

    let without_enabled = NEW_RULE.replace("st2:enabled true ;", "");
    let created = call(&a.app, "POST", RULES, &[AUTH, ("content-type", "text/turtle")], without_enabled).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(!a.st2.get("ops.restart_on_failure", true).await.unwrap().enabled, "the default applies");

    // A PUT that sends the read-only st2:ref unchanged is fine; one that changes it is 409 naming it.
    let location = created.header("location").unwrap().to_owned();
    let read = call(&a.app, "GET", &location, &[], Body::empty()).await;
    let etag = read.header("etag").unwrap().to_owned();
    let put = |body: String, etag: String| {
        let (app, location) = (a.app.clone(), location.clone());
        async move {
            call(&app, "PUT", &location, &[AUTH, ("content-type", "text/turtle"), ("if-match", &etag)], body).await
        }
    };
    let changed_ref = read.body.replace("\"ops.restart_on_failure\"", "\"ops.renamed\"");
    assert_ne!(changed_ref, read.body, "the representation holds st2:ref");
    let conflict = put(changed_ref, etag.clone()).await;
    assert_eq!(conflict.status, 409, "{}", conflict.body);
    assert!(conflict.error_message().contains("ref"), "{}", conflict.error_message());
    assert!(conflict.error_message().contains("read-only"), "{}", conflict.error_message());
    assert!(conflict.header("link").is_some_and(|l| l.contains("constrainedBy")));
    assert_eq!(
        a.st2.get("ops.restart_on_failure", true).await.unwrap().description.as_deref(),
        Some("Restart the service when its health check fails."),
        "nothing changed"
    );

    let same_ref = read.body.replace("Restart the service", "Restart the web service");
    let updated = put(same_ref, etag).await;
    assert_eq!(updated.status, 200, "{}", updated.body);
}

#[tokio::test]
async fn json_ld_has_a_context_short_terms_and_json_values_and_round_trips_through_put() {
    let a = adapter().await;
    let id = rule_id(&a.app, "examples.sample_rule_with_timer").await;
    let location = format!("{RULES}/{id}");
    let read = call(&a.app, "GET", &location, &[("accept", "application/ld+json")], Body::empty()).await;
    assert_eq!(read.status, 200);
    let mut doc: serde_json::Value = serde_json::from_str(&read.body).unwrap();
    let context = &doc["@context"];
    assert_eq!(context["triggerParameters"]["@type"], "@json", "{}", read.body);
    assert_eq!(context["st2"], "https://w3id.org/st2-oslc/ns#");
    let rule = doc["@graph"]
        .as_array()
        .unwrap()
        .iter()
        .position(|n| n["@id"] == location.as_str())
        .expect("the rule in @graph");
    let node = &doc["@graph"][rule];
    assert_eq!(node["title"], "sample_rule_with_timer");
    assert_eq!(node["enabled"], false, "booleans are JSON booleans");
    assert_eq!(node["triggerParameters"]["unit"], "seconds", "rdf:JSON values are JSON");
    assert_eq!(node["serviceProvider"], format!("{BASE}/serviceProviders/1"), "links are IRI strings");

    // The published context holds every term of the inline one, the same way.
    let published = call(&a.app, "GET", oslc_core::server::JSONLD_CONTEXT_PATH, &[], Body::empty()).await;
    assert_eq!(published.status, 200);
    assert_eq!(published.header("content-type"), Some("application/ld+json"));
    let published: serde_json::Value = serde_json::from_str(&published.body).unwrap();
    for (term, definition) in context.as_object().unwrap() {
        assert_eq!(&published["@context"][term], definition, "{term}");
    }

    // A plain-JSON client edits the document and PUTs it back.
    doc["@graph"][rule]["description"] = "Edited as JSON".into();
    doc["@graph"][rule]["triggerParameters"]["delta"] = 30.into();
    let etag = read.header("etag").unwrap().to_owned();
    let put = call(
        &a.app,
        "PUT",
        &location,
        &[AUTH, ("content-type", "application/ld+json"), ("if-match", &etag)],
        doc.to_string(),
    )
    .await;
    assert_eq!(put.status, 200, "{}", put.body);
    let stored = a.st2.get("examples.sample_rule_with_timer", true).await.unwrap();
    assert_eq!(stored.description.as_deref(), Some("Edited as JSON"));
    assert_eq!(stored.trigger.parameters["delta"], 30);
    assert_eq!(stored.trigger.parameters["unit"], "seconds");
}

#[tokio::test]
async fn the_event_schema_and_context_are_served_without_credentials() {
    let adapter = adapter().await;
    let schema = call(&adapter.app, "GET", "/events/v1/schema.json", &[], Body::empty()).await;
    assert_eq!(schema.status, 200);
    assert_eq!(schema.header("content-type"), Some("application/schema+json"));
    let document: serde_json::Value = serde_json::from_str(&schema.body).unwrap();
    assert_eq!(document["$id"], oslc_events::schema::SCHEMA_IRI);
    let context = call(&adapter.app, "GET", "/events/v1/context.jsonld", &[], Body::empty()).await;
    assert_eq!(context.status, 200);
    assert_eq!(context.header("content-type"), Some("application/ld+json"));
    let document: serde_json::Value = serde_json::from_str(&context.body).unwrap();
    assert_eq!(document["@context"]["changed"]["@id"], "http://open-services.net/ns/core/trs#changed");
}
