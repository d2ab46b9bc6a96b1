//! A TRS client's walk over HTTP: from the TrackedResourceSet through every `trs:previous` segment to the end,
//! and through every Base page.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use http_body_util::BodyExt;
use oslc_core::rdf::{self, RdfFormat};
use oslc_core::vocab::{ldp, rdf as rdf_ns, trs};
use oslc_events::{ChangeKind, Event, EventLog, MemoryEventLog, StaticBase, Trs};
use oxrdf::{Graph, NamedNode, NamedOrBlankNodeRef, TermRef};
use tower::ServiceExt;

const TRS: &str = "http://adapter.test/trs";

async fn get(app: &Router, uri: &str, headers: &[(&str, &str)]) -> (u16, http::HeaderMap, Graph) {
    let mut request = http::Request::get(uri.strip_prefix("http://adapter.test").unwrap_or(uri));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = app.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let graph = if status == 200 { rdf::parse(&bytes, RdfFormat::Turtle, TRS).unwrap() } else { Graph::new() };
    (status, headers, graph)
}

fn object(graph: &Graph, subject: NamedOrBlankNodeRef<'_>, p: oxrdf::NamedNodeRef<'_>) -> Option<NamedNode> {
    match graph.object_for_subject_predicate(subject, p) {
        Some(TermRef::NamedNode(n)) => Some(n.into_owned()),
        _ => None,
    }
}

/// (order, id) of each change listed by `changelog`, newest first.
fn changes(graph: &Graph, changelog: NamedOrBlankNodeRef<'_>) -> Vec<(u64, String)> {
    let mut changes: Vec<(u64, String)> = graph
        .objects_for_subject_predicate(changelog, trs::change)
        .map(|e| {
            let TermRef::NamedNode(e) = e else { panic!("event without IRI") };
            let order = match graph.object_for_subject_predicate(e, trs::order) {
                Some(TermRef::Literal(l)) => l.value().parse().unwrap(),
                other => panic!("{other:?}"),
            };
            assert!(graph.object_for_subject_predicate(e, trs::changed).is_some());
            (order, e.as_str().to_owned())
        })
        .collect();
    changes.sort_unstable_by(|a, b| b.cmp(a));
    changes
}

#[tokio::test]
async fn walk_the_change_log_and_the_base() {
    let log = Arc::new(MemoryEventLog::new());
    for batch in 0..13 {
        let events = (0..100.min(1234 - batch * 100))
            .map(|i| {
                let n = batch * 100 + i;
                Event::new(
                    [ChangeKind::Creation, ChangeKind::Modification, ChangeKind::Deletion][n % 3],
                    NamedNode::new_unchecked(format!("http://adapter.test/r/{}", n % 50)),
                )
            })
            .collect();
        log.append(events, Vec::new()).await.unwrap();
    }
    assert_eq!(log.head().await.unwrap(), 1234);
    let members: Vec<NamedNode> =
        (0..1050).map(|i| NamedNode::new_unchecked(format!("http://adapter.test/r/{i}"))).collect();
    let trs = Trs::new(TRS, log.clone(), Arc::new(StaticBase(members))).with_segment_size(100).with_base_page_size(500);
    let app: Router = oslc_events::trs::server::router(trs, "/trs");

    // The TrackedResourceSet: base, and the newest segment inline.
    let (status, headers, graph) = get(&app, TRS, &[]).await;
    assert_eq!(status, 200);
    let trs_node = NamedNode::new_unchecked(TRS);
    assert!(graph.contains(oxrdf::TripleRef::new(&trs_node, rdf_ns::r#type, trs::TrackedResourceSet)));
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert_eq!(get(&app, TRS, &[("if-none-match", &etag)]).await.0, 304);
    let changelog = object(&graph, trs_node.as_ref().into(), trs::changeLog).expect("trs:changeLog");
    let mut walked = changes(&graph, changelog.as_ref().into());
    assert_eq!(walked.first().unwrap().0, 1234, "the newest event is inline");
    let mut previous = object(&graph, changelog.as_ref().into(), trs::previous);
    let mut segments = 0;
    while let Some(segment) = previous.take() {
        if segment == rdf_ns::nil.into_owned() {
            break;
        }
        let (status, headers, graph) = get(&app, segment.as_str(), &[]).await;
        assert_eq!(status, 200, "{segment}");
        assert!(headers["cache-control"].to_str().unwrap().contains("immutable"));
        walked.extend(changes(&graph, segment.as_ref().into()));
        previous = object(&graph, segment.as_ref().into(), trs::previous);
        segments += 1;
        assert!(segments < 100, "runaway walk");
    }
    assert_eq!(segments, 12);
    assert!(walked.windows(2).all(|w| w[0].0 > w[1].0), "orders strictly decrease along the walk");
    assert_eq!(walked.len(), 1234, "every event once");
    assert_eq!(walked.iter().map(|(_, id)| id).collect::<HashSet<_>>().len(), 1234);
    assert_eq!(walked.last().unwrap().0, 1);

    // Past the end: 404.
    for missing in ["/trs/changelog/12", "/trs/changelog/99", "/trs/changelog/x"] {
        assert_eq!(get(&app, missing, &[]).await.0, 404, "{missing}");
    }

    // The Base: every page, linked by ldp:nextPage and Link headers, with the cutoff event in the log.
    let newest = log.read_backward(None, 1).await.unwrap().pop().unwrap();
    let base = NamedNode::new_unchecked(format!("{TRS}/base"));
    let mut page = Some(base.clone());
    let mut seen = HashSet::new();
    let mut pages = 0;
    while let Some(uri) = page.take() {
        let (status, headers, graph) = get(&app, uri.as_str(), &[]).await;
        assert_eq!(status, 200);
        pages += 1;
        assert_eq!(object(&graph, base.as_ref().into(), trs::cutoffEvent), Some(newest.id.clone()));
        assert_eq!(object(&graph, base.as_ref().into(), ldp::hasMemberRelation), Some(ldp::member.into_owned()));
        for member in graph.objects_for_subject_predicate(&base, ldp::member) {
            assert!(seen.insert(member.to_string()), "{member} twice");
        }
        page = object(&graph, uri.as_ref().into(), ldp::nextPage).filter(|n| *n != rdf_ns::nil.into_owned());
        match &page {
            Some(next) => assert_eq!(headers["link"].to_str().unwrap(), format!("<{}>; rel=\"next\"", next.as_str())),
            None => assert!(headers.get("link").is_none()),
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 1050, "Base paging is complete");
    assert_eq!(get(&app, &format!("{TRS}/base?page=3"), &[]).await.0, 404);
}

#[tokio::test]
async fn an_empty_log_has_a_nil_cutoff_and_no_previous() {
    let trs = Trs::new(TRS, Arc::new(MemoryEventLog::new()), Arc::new(StaticBase::default()));
    let app: Router = oslc_events::trs::server::router(trs, "/trs");
    let (_, _, graph) = get(&app, TRS, &[]).await;
    let changelog = object(&graph, NamedNode::new_unchecked(TRS).as_ref().into(), trs::changeLog).unwrap();
    assert_eq!(object(&graph, changelog.as_ref().into(), trs::previous), Some(rdf_ns::nil.into_owned()));
    let (_, _, base) = get(&app, &format!("{TRS}/base"), &[]).await;
    assert_eq!(
        object(&base, NamedNode::new_unchecked(format!("{TRS}/base")).as_ref().into(), trs::cutoffEvent),
        Some(rdf_ns::nil.into_owned())
    );
}

#[tokio::test]
async fn segments_of_an_epoch_live_under_it() {
    use oslc_events::{EventLog, MemoryEventLog, Trs};
    use std::sync::Arc;
    let log: Arc<dyn EventLog> = Arc::new(MemoryEventLog::new());
    let events: Vec<_> = (0..250)
        .map(|n| {
            oslc_events::Event::new(
                oslc_events::ChangeKind::Creation,
                oxrdf::NamedNode::new_unchecked(format!("https://tool.example/r/{n}")),
            )
            .with_id_from(&format!("epoch-{n}"))
        })
        .collect();
    log.append(events, Vec::new()).await.unwrap();
    struct NoBase;
    #[async_trait::async_trait]
    impl oslc_events::BaseProvider for NoBase {
        async fn members(&self) -> oslc_events::Result<Vec<oxrdf::NamedNode>> {
            Ok(Vec::new())
        }
    }
    let trs = Trs::new("http://t.example/trs", log, Arc::new(NoBase)).with_epoch("a1b2c3");
    assert_eq!(trs.segment_uri(1).as_str(), "http://t.example/trs/changelog/a1b2c3/1");
    let app: axum::Router = oslc_events::trs::server::router(trs, "/trs");
    let status = |uri: &'static str| {
        let app = app.clone();
        async move {
            use tower::ServiceExt;
            let request = axum::http::Request::get(uri).body(axum::body::Body::empty()).unwrap();
            app.oneshot(request).await.unwrap().status().as_u16()
        }
    };
    assert_eq!(status("/trs/changelog/a1b2c3/1").await, 200);
    assert_eq!(status("/trs/changelog/1").await, 404, "an older log's URI");
    assert_eq!(status("/trs/changelog/ffffff/1").await, 404, "another log's URI");
}
