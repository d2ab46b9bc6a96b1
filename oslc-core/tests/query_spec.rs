//! The examples of the OSLC Query 3.0 specification (OASIS Standard, 2021), each test named after the table or
//! example it checks, run against the server kit's query capability over a data set shaped like the spec's.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use common::*;
use oslc_core::oxrdf::{Graph, NamedNode, TermRef, TripleRef};
use oslc_core::rdf::{self, RdfFormat};
use oslc_core::vocab::{dcterms, foaf, oslc, rdf as rdf_ns, rdfs};
use oslc_core::{InMemoryProvider, Resource};

const DEB: &str = "https://example.org/jts/users/deb";
const BOB: &str = "https://example.org/jts/users/bob";

/// (id, creator, modifier, fixed, severity, created, title, description)
type Item = (u32, &'static str, Option<&'static str>, bool, &'static str, &'static str, &'static str, &'static str);

const ITEMS: &[Item] = &[
    (9, DEB, Some(DEB), true, "low", "2018-05-01T10:00:00Z", "To many messages logged in the console", ""),
    (22, DEB, Some(BOB), false, "high", "2018-05-03T10:00:00Z", "Calculation error", "database performance drops"),
    (11, DEB, Some(DEB), true, "low", "2018-05-02T10:00:00Z", "Some accessibility issues", ""),
    (20, DEB, Some(BOB), false, "low", "2018-05-04T10:00:00Z", "Browser Exception", ""),
    (
        1,
        DEB,
        Some(DEB),
        false,
        "high",
        "2018-04-01T10:00:00Z",
        "Not possible to change a user password",
        "database timeout",
    ),
    (27, DEB, Some(DEB), false, "low", "2018-05-05T10:00:00Z", "Improve link colors", ""),
    (28, DEB, Some(DEB), false, "low", "2018-05-06T10:00:00Z", "Login not working anymore", ""),
    (17, DEB, Some(DEB), true, "low", "2018-05-07T10:00:00Z", "Increase size of overall application window", ""),
    (5, DEB, None, false, "high", "2018-06-01T10:00:00Z", "Improve loan calculation algorithm", "performance"),
    (23, DEB, Some(DEB), false, "medium", "2018-05-08T10:00:00Z", "Search is not finding this term", ""),
    (12, DEB, None, true, "medium", "2018-05-09T10:00:00Z", "Button sizes are too small", ""),
    (7, DEB, Some(DEB), false, "medium", "2018-05-10T10:00:00Z", "Offer more services related to loans", ""),
    (8, DEB, Some(BOB), false, "low", "2018-05-11T10:00:00Z", "Add context sensitive help support everywhere", ""),
    (2, BOB, Some(BOB), false, "high", "2018-03-01T10:00:00Z", "Slow reports", "performance of the database"),
    (3, BOB, Some(DEB), true, "medium", "2018-03-02T10:00:00Z", "Typo on the login page", ""),
];

fn item_turtle(item: &Item) -> String {
    let (id, creator, modifier, fixed, severity, created, title, description) = item;
    let name = |iri: &str| if iri == DEB { "Deb" } else { "Bob" };
    let mut ttl = format!(
        "@prefix dcterms: <http://purl.org/dc/terms/> . @prefix oslc: <http://open-services.net/ns/core#> .
         @prefix oslc_cm: <http://open-services.net/ns/cm#> . @prefix foaf: <http://xmlns.com/foaf/0.1/> .
         @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
         <{CRS}/{id}> a oslc_cm:ChangeRequest ; dcterms:identifier \"{id}\" ; dcterms:title \"{title}\" ;
           dcterms:creator <{creator}> ; oslc_cm:fixed {fixed} ; oslc_cm:severity \"{severity}\" ;
           dcterms:created \"{created}\"^^xsd:dateTime .
         <{creator}> foaf:name \"{}\" .\n",
        name(creator)
    );
    if !description.is_empty() {
        ttl.push_str(&format!("<{CRS}/{id}> dcterms:description \"{description}\" .\n"));
    }
    if let Some(modifier) = modifier {
        ttl.push_str(&format!(
            "<{CRS}/{id}> oslc:modifiedBy <{modifier}> . <{modifier}> foaf:name \"{}\" .\n",
            name(modifier)
        ));
    }
    ttl
}

fn spec_app() -> (axum::Router, Arc<InMemoryProvider>) {
    let provider = Arc::new(InMemoryProvider::new());
    for item in ITEMS {
        let graph = rdf::parse(item_turtle(item).as_bytes(), RdfFormat::Turtle, CRS).unwrap();
        provider.insert(
            item.0.to_string(),
            Resource::from_graph(NamedNode::new(format!("{CRS}/{}", item.0)).unwrap(), graph),
        );
    }
    (app_with(provider.clone(), 64 * 1024), provider)
}

fn query_url(params: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        s.append_pair(k, v);
    }
    format!("{CRS}?{}", s.finish())
}

async fn run(app: &axum::Router, params: &[(&str, &str)]) -> (Graph, Reply) {
    let reply = get(app, &query_url(params), "text/turtle").await;
    assert_eq!(reply.status, 200, "{params:?}: {}", reply.text());
    (reply.graph(CRS), reply)
}

/// The ids of the members, in the order their `oslc:score` / listing gives (sorted when `sorted`).
fn member_ids(graph: &Graph) -> BTreeSet<u32> {
    graph
        .objects_for_subject_predicate(NamedNode::new_unchecked(CRS).as_ref(), rdfs::member)
        .map(|m| m.to_string().trim_matches(['<', '>']).rsplit('/').next().unwrap().parse().unwrap())
        .collect()
}

fn ids(list: &[u32]) -> BTreeSet<u32> {
    list.iter().copied().collect()
}

#[tokio::test]
async fn table2_query_for_all_change_requests_created_by_deb() {
    let (app, _) = spec_app();
    let (graph, reply) = run(&app, &[("oslc.where", "dcterms:creator=<https://example.org/jts/users/deb>")]).await;
    assert_eq!(member_ids(&graph), ids(&[9, 22, 11, 20, 1, 27, 28, 17, 5, 23, 12, 7, 8]));
    assert!(reply.header("link").unwrap().contains("ldp#DirectContainer"));
    // Query 3.0's result container: an LDP Direct Container with rdfs:member, and ldp:contains for LDP clients.
    let base = NamedNode::new_unchecked(CRS);
    let ldp = |term: &str| NamedNode::new_unchecked(format!("http://www.w3.org/ns/ldp#{term}"));
    assert!(graph.contains(TripleRef::new(&base, rdf_ns::r#type, &ldp("DirectContainer"))));
    assert!(graph.contains(TripleRef::new(&base, &ldp("hasMemberRelation"), rdfs::member)));
    assert_eq!(graph.triples_for_predicate(&ldp("contains")).count(), 13);
    // Without oslc.select the members' properties are not included (as in the spec's response).
    assert!(graph.triples_for_predicate(dcterms::title).next().is_none());
}

#[tokio::test]
async fn table3_query_for_change_requests_created_by_deb_that_are_not_fixed() {
    let (app, _) = spec_app();
    let (graph, _) =
        run(&app, &[("oslc.where", "dcterms:creator=<https://example.org/jts/users/deb> and oslc_cm:fixed=false")])
            .await;
    assert_eq!(member_ids(&graph), ids(&[22, 20, 1, 27, 28, 5, 23, 7, 8]));
}

#[tokio::test]
async fn table4_query_for_change_requests_created_by_any_user_named_deb() {
    let (app, _) = spec_app();
    let (graph, _) = run(&app, &[("oslc.where", "dcterms:creator {foaf:name=\"Deb\"}")]).await;
    assert_eq!(member_ids(&graph), ids(&[9, 22, 11, 20, 1, 27, 28, 17, 5, 23, 12, 7, 8]));
    let (graph, _) = run(&app, &[("oslc.where", "dcterms:creator{foaf:name=\"Bob\"}")]).await;
    assert_eq!(member_ids(&graph), ids(&[2, 3]));
}

#[tokio::test]
async fn table5_severity_in_high_or_medium() {
    let (app, _) = spec_app();
    let (graph, _) = run(&app, &[("oslc.where", "oslc_cm:severity in [\"high\",\"medium\"]")]).await;
    assert_eq!(member_ids(&graph), ids(&[22, 1, 5, 2, 23, 12, 7, 3]));
}

#[tokio::test]
async fn table8_high_severity_change_requests_that_deal_with_database_performance() {
    let (app, _) = spec_app();
    let (graph, reply) =
        run(&app, &[("oslc.where", "oslc_cm:severity=\"high\""), ("oslc.searchTerms", "\"database\",\"performance\"")])
            .await;
    assert_eq!(member_ids(&graph), ids(&[22, 1, 5, 2]));
    let score = |id: u32| match graph
        .object_for_subject_predicate(NamedNode::new_unchecked(format!("{CRS}/{id}")).as_ref(), oslc::score)
    {
        Some(TermRef::Literal(l)) => l.value().parse::<f64>().unwrap(),
        other => panic!("no score for {id}: {other:?}"),
    };
    assert_eq!((score(22), score(2), score(1), score(5)), (100.0, 100.0, 50.0, 50.0));
    // Highest score first, then IRI order.
    assert_eq!(page_members(&reply.text()), vec![2, 22, 1, 5]);
}

#[tokio::test]
async fn table9_sort_high_severity_change_requests_by_creator_name_and_created_date_time() {
    let (app, _) = spec_app();
    let url = query_url(&[
        ("oslc.where", "oslc_cm:severity=\"high\""),
        ("oslc.orderBy", "dcterms:creator{+foaf:name},-dcterms:created"),
        ("oslc.paging", "true"),
        ("oslc.pageSize", "1"),
    ]);
    // Page by page, so the order is observable one member at a time.
    let order = walk_pages(&app, &url).await;
    assert_eq!(order, vec![2, 5, 22, 1], "Bob's first, then Deb's newest first");
}

#[tokio::test]
async fn table10_select_title_creator_and_modifier_name() {
    let (app, _) = spec_app();
    let (graph, _) = run(
        &app,
        &[
            ("oslc.where", "dcterms:creator {foaf:name=\"Deb\"}"),
            ("oslc.select", "dcterms:title,dcterms:creator,oslc:modifiedBy{foaf:name}"),
        ],
    )
    .await;
    let item = |id: u32| NamedNode::new_unchecked(format!("{CRS}/{id}"));
    let item22 = item(22);
    assert!(graph.object_for_subject_predicate(item22.as_ref(), dcterms::title).is_some());
    assert!(graph.object_for_subject_predicate(item22.as_ref(), dcterms::creator).is_some());
    assert!(graph.object_for_subject_predicate(item22.as_ref(), oslc::modifiedBy).is_some());
    assert!(graph.object_for_subject_predicate(item22.as_ref(), dcterms::created).is_none(), "not selected");
    // The modifier's name is there (nested select); Bob only modified, so only a nested select brings his name.
    let bob = NamedNode::new_unchecked(BOB);
    assert_eq!(
        graph.object_for_subject_predicate(bob.as_ref(), foaf::name).map(|t| t.to_string()),
        Some("\"Bob\"".into())
    );
    assert_eq!(member_ids(&graph).len(), 13);
}

#[tokio::test]
async fn select_wildcard_and_rdf_nil() {
    let (app, _) = spec_app();
    let (graph, _) = run(&app, &[("oslc.where", "dcterms:identifier=\"22\""), ("oslc.select", "*")]).await;
    let item22 = NamedNode::new_unchecked(format!("{CRS}/22"));
    assert_eq!(graph.triples_for_subject(item22.as_ref()).count(), 9 + 1, "its nine properties and oslc:order");
    let (graph, _) = run(&app, &[("oslc.where", "dcterms:identifier=\"22\""), ("oslc.select", "rdf:nil")]).await;
    // Every result is paged: the ResponseInfo's type and total count come with the member.
    assert_eq!(graph.len(), 8, "only the container's, membership, oslc:order and ResponseInfo triples");
}

/// Follows `oslc:nextPage` from `url` to the end; returns the member ids in page order.
async fn walk_pages(app: &axum::Router, url: &str) -> Vec<u32> {
    let mut order = Vec::new();
    let mut next = Some(url.to_owned());
    let mut pages = 0;
    let mut last_order: Option<u64> = None;
    while let Some(url) = next.take() {
        pages += 1;
        assert!(pages < 100, "runaway paging");
        let reply = get(app, &url, "text/turtle").await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let graph = reply.graph(CRS);
        let info = graph.subject_for_predicate_object(rdf_ns::r#type, oslc::ResponseInfo).expect("a ResponseInfo");
        assert_eq!(info.to_string(), format!("<{url}>"), "the ResponseInfo is the page's request URI");
        assert!(graph.object_for_subject_predicate(info, oslc::totalCount).is_some());
        let page: Vec<u32> = page_members(&reply.text());
        assert!(page_orders(&reply.text()).first() > last_order.as_ref(), "oslc:order grows across pages");
        last_order = page_orders(&reply.text()).last().copied();
        order.extend(page);
        next = graph.object_for_subject_predicate(info, oslc::nextPage).map(|n| match n {
            TermRef::NamedNode(n) => n.as_str().to_owned(),
            other => panic!("{other}"),
        });
        if let Some(next) = &next {
            assert!(reply.header("link").unwrap().contains(&format!("<{next}>; rel=\"next\"")));
        }
    }
    order
}

/// Member ids of one response in the order its `oslc:order` values give.
fn page_members(turtle: &str) -> Vec<u32> {
    let graph = rdf::parse(turtle.as_bytes(), RdfFormat::Turtle, CRS).unwrap();
    let mut ids: Vec<(u64, u32)> = member_ids(&graph)
        .into_iter()
        .map(|id| {
            let member = NamedNode::new_unchecked(format!("{CRS}/{id}"));
            match graph.object_for_subject_predicate(member.as_ref(), oslc::order) {
                Some(TermRef::Literal(l)) => (l.value().parse().unwrap(), id),
                other => panic!("no oslc:order for {id}: {other:?}"),
            }
        })
        .collect();
    ids.sort_unstable();
    ids.into_iter().map(|(_, id)| id).collect()
}

fn page_orders(turtle: &str) -> Vec<u64> {
    let graph = rdf::parse(turtle.as_bytes(), RdfFormat::Turtle, CRS).unwrap();
    let mut orders: Vec<u64> = graph
        .triples_for_predicate(oslc::order)
        .map(|t| match t.object {
            TermRef::Literal(l) => l.value().parse().unwrap(),
            _ => panic!(),
        })
        .collect();
    orders.sort_unstable();
    orders
}

#[tokio::test]
async fn paging_example_query_for_all_change_requests_with_paging() {
    let (app, _) = spec_app();
    let first = get(&app, &query_url(&[("oslc.paging", "true"), ("oslc.pageSize", "4")]), "text/turtle").await;
    let graph = first.graph(CRS);
    let info = graph.subject_for_predicate_object(rdf_ns::r#type, oslc::ResponseInfo).unwrap();
    assert_eq!(
        graph.object_for_subject_predicate(info, oslc::totalCount).map(|t| t.to_string()),
        Some("\"15\"^^<http://www.w3.org/2001/XMLSchema#integer>".into())
    );
    assert_eq!(member_ids(&graph).len(), 4);
    // Spelled as a client may spell it (an escaped `*`, parameters in another order): the ResponseInfo keeps it.
    let spelled = format!("{CRS}?oslc.pageSize=4&oslc.select=%2A&oslc.paging=true");
    let graph = get(&app, &spelled, "text/turtle").await.graph(CRS);
    let info = graph.subject_for_predicate_object(rdf_ns::r#type, oslc::ResponseInfo).unwrap();
    assert_eq!(info.to_string(), format!("<{spelled}>"));
    let order = walk_pages(&app, &query_url(&[("oslc.paging", "true"), ("oslc.pageSize", "4")])).await;
    assert_eq!(order, vec![1, 2, 3, 5, 7, 8, 9, 11, 12, 17, 20, 22, 23, 27, 28], "every member once, in IRI order");
}

#[tokio::test]
async fn next_page_links_survive_members_added_and_removed_between_fetches() {
    let (app, provider) = spec_app();
    let mut url =
        Some(query_url(&[("oslc.paging", "true"), ("oslc.pageSize", "3"), ("oslc.orderBy", "-dcterms:created")]));
    let mut seen = Vec::new();
    let mut round = 0;
    while let Some(page_url) = url.take() {
        let reply = get(&app, &page_url, "text/turtle").await;
        seen.extend(page_members(&reply.text()));
        let graph = reply.graph(CRS);
        let info = graph.subject_for_predicate_object(rdf_ns::r#type, oslc::ResponseInfo).unwrap();
        url = graph
            .object_for_subject_predicate(info, oslc::nextPage)
            .map(|n| n.to_string().trim_matches(['<', '>']).to_owned());
        // Between fetches: delete a member already served and one not yet served, add two new ones.
        round += 1;
        if round == 2 {
            for gone in ["5", "3"] {
                let delete = request("DELETE", &format!("{CRS}/{gone}")).body(Body::empty()).unwrap();
                assert_eq!(send(&app, delete).await.status, 204);
            }
            for (id, created) in [(40, "2018-05-05T12:00:00Z"), (41, "2019-01-01T00:00:00Z")] {
                let ttl = format!(
                    "<{CRS}/{id}> <http://purl.org/dc/terms/created> \"{created}\"^^<http://www.w3.org/2001/XMLSchema#dateTime> ."
                );
                let graph = rdf::parse(ttl.as_bytes(), RdfFormat::Turtle, CRS).unwrap();
                provider.insert(
                    id.to_string(),
                    Resource::from_graph(NamedNode::new(format!("{CRS}/{id}")).unwrap(), graph),
                );
            }
        }
    }
    let present_throughout: Vec<u32> = ITEMS.iter().map(|i| i.0).filter(|id| *id != 3).collect();
    for id in &present_throughout {
        assert_eq!(seen.iter().filter(|s| *s == id).count(), 1, "member {id} seen once: {seen:?}");
    }
    let unique: BTreeSet<u32> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no member repeated: {seen:?}");
}

#[tokio::test]
async fn value_forms_of_table7() {
    let (app, _) = spec_app();
    let cases: &[(&str, &[u32])] = &[
        ("oslc_cm:fixed=true", &[9, 11, 17, 12, 3]),
        ("oslc_cm:fixed=\"true\"^^xsd:boolean", &[9, 11, 17, 12, 3]),
        ("dcterms:created>\"2018-05-08T10:00:00Z\"^^xsd:dateTime", &[12, 7, 8, 5]),
        ("dcterms:created<=\"2018-03-02T10:00:00Z\"", &[2, 3]),
        ("dcterms:title=\"Browser Exception\"^^xsd:string", &[20]),
        ("dcterms:title!=\"Browser Exception\" and oslc_cm:severity=\"medium\"", &[23, 12, 7, 3]),
        ("dcterms:title=\"Browser Exception\"@fr", &[]),
        ("dcterms:identifier>\"20\"", &[22, 23, 27, 28, 3, 5, 7, 8, 9]),
        ("rdf:type=oslc_cm:ChangeRequest and dcterms:creator=<https://example.org/jts/users/bob>", &[2, 3]),
        ("*{foaf:name=\"Bob\"}", &[22, 20, 8, 2, 3]),
    ];
    for (clause, expected) in cases {
        let (graph, _) = run(&app, &[("oslc.where", clause)]).await;
        assert_eq!(member_ids(&graph), ids(expected), "{clause}");
    }
}

#[tokio::test]
async fn oslc_prefix_adds_to_the_default_prefixes() {
    let (app, _) = spec_app();
    let (graph, _) = run(
        &app,
        &[
            ("oslc.prefix", "people=<http://xmlns.com/foaf/0.1/>"),
            ("oslc.where", "dcterms:creator{people:name=\"Bob\"}"),
        ],
    )
    .await;
    assert_eq!(member_ids(&graph), ids(&[2, 3]));
}

#[tokio::test]
async fn a_form_encoded_post_is_a_query() {
    let (app, provider) = spec_app();
    let body = "oslc.where=oslc_cm%3Aseverity%3D%22medium%22";
    let request = request("POST", CRS)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "text/turtle");
    let reply = send(&app, request.body(Body::from(body)).unwrap()).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(member_ids(&reply.graph(CRS)), ids(&[23, 12, 7, 3]));
    assert_eq!(provider.len(), ITEMS.len(), "nothing created");
}

#[tokio::test]
async fn malformed_queries_give_400_naming_the_position() {
    let (app, provider) = spec_app();
    let cases: &[(&str, &str, &str)] = &[
        ("oslc.where", "dcterms:title=\"x\" and", "position 21"),
        ("oslc.where", "dcterms:title~\"x\"", "position 13"),
        ("oslc.where", "nope:title=\"x\"", "unknown prefix 'nope'"),
        ("oslc.where", "oslc_cm:severity in [\"high\" \"low\"]", "position 28"),
        ("oslc.select", "dcterms:title,{", "position 14"),
        ("oslc.orderBy", "dcterms:created", "position 15"),
        ("oslc.searchTerms", "database", "position 0"),
        ("oslc.prefix", "foaf=http://xmlns.com/foaf/0.1/", "position 5"),
        ("oslc.pageSize", "-3", "oslc.pageSize"),
        ("_page", "garbage", "page token"),
    ];
    for (parameter, value, needle) in cases {
        let reply = get(&app, &query_url(&[(parameter, value)]), "text/turtle").await;
        assert_eq!(reply.status, 400, "{parameter}={value}");
        let text = reply.text();
        assert!(text.contains(parameter) && text.contains(needle), "{parameter}={value}: {text}");
        assert!(text.contains("oslc:Error") || text.contains("core#Error"), "{text}");
    }
    assert_eq!(provider.len(), ITEMS.len());
}

/// A provider that evaluates `oslc.where` itself (as a database would) and says so by what it returns.
struct PushDown {
    inner: InMemoryProvider,
    calls: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl oslc_core::ResourceProvider for PushDown {
    async fn list(&self, c: &oslc_core::Container) -> oslc_core::Result<Vec<Resource>> {
        self.inner.list(c).await
    }
    async fn get(&self, c: &oslc_core::Container, id: &str) -> oslc_core::Result<Resource> {
        self.inner.get(c, id).await
    }
    async fn create(&self, c: &oslc_core::Container, r: Resource) -> oslc_core::Result<Resource> {
        self.inner.create(c, r).await
    }
    async fn replace(
        &self,
        c: &oslc_core::Container,
        id: &str,
        r: Resource,
        m: &oslc_core::IfMatch,
    ) -> oslc_core::Result<Resource> {
        self.inner.replace(c, id, r, m).await
    }
    async fn delete(
        &self,
        c: &oslc_core::Container,
        id: &str,
        m: Option<&oslc_core::IfMatch>,
    ) -> oslc_core::Result<()> {
        self.inner.delete(c, id, m).await
    }
    async fn query(
        &self,
        c: &oslc_core::Container,
        query: &oslc_core::query::Query,
    ) -> oslc_core::Result<Option<Vec<Resource>>> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        assert!(query.where_clause.is_some());
        // "The database" answers with members 1 and 2 only, whatever the clause says.
        let all = self.inner.list(c).await?;
        Ok(Some(
            all.into_iter()
                .filter(|r| r.subject().as_str().ends_with("/1") || r.subject().as_str().ends_with("/2"))
                .collect(),
        ))
    }
}

#[tokio::test]
async fn providers_may_evaluate_the_query_themselves() {
    let inner = InMemoryProvider::new();
    for item in ITEMS {
        let graph = rdf::parse(item_turtle(item).as_bytes(), RdfFormat::Turtle, CRS).unwrap();
        inner.insert(
            item.0.to_string(),
            Resource::from_graph(NamedNode::new(format!("{CRS}/{}", item.0)).unwrap(), graph),
        );
    }
    let provider = Arc::new(PushDown { inner, calls: Default::default() });
    let app = oslc_core::server::Server::builder(BASE)
        .unwrap()
        .with_service_provider(
            oslc_core::server::ServiceProviderConfig::new("1", "Project")
                .with_collection(oslc_core::server::Collection::new("changeRequests", provider.clone())),
        )
        .build()
        .unwrap()
        .router;
    // The provider's answer is taken as is (bob's item 2 is not filtered out again), then ordered by the server.
    let (graph, reply) =
        run(&app, &[("oslc.where", "dcterms:creator{foaf:name=\"Deb\"}"), ("oslc.orderBy", "-dcterms:created")]).await;
    assert_eq!(member_ids(&graph), ids(&[1, 2]));
    assert_eq!(page_members(&reply.text()), vec![1, 2], "1 was created after 2");
    assert_eq!(provider.calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    // Without a filter the provider is not asked to evaluate anything.
    let (graph, _) = run(&app, &[("oslc.select", "dcterms:title")]).await;
    assert_eq!(member_ids(&graph).len(), ITEMS.len());
    assert_eq!(provider.calls.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// Members listed already in natural order (as a provider that sorts once per change lists them) page exactly as
/// members listed in any other order: same pages, same tokens, nothing skipped or repeated.
#[test]
fn members_listed_in_order_page_as_members_listed_out_of_order() {
    use oslc_core::query::{Evaluation, Query, evaluate_within, sort_in_natural_order};
    let resources: Vec<Resource> = (0..250)
        .rev()
        .map(|i| Resource::new(NamedNode::new(format!("http://tool.test/r/{}", i * 7 % 250)).unwrap()))
        .collect();
    let mut sorted = resources.clone();
    sort_in_natural_order(&mut sorted);
    let pages = |listed: &Vec<Resource>| {
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut params =
                vec![("oslc.paging".to_owned(), "true".to_owned()), ("oslc.pageSize".to_owned(), "40".to_owned())];
            if let Some(token) = &token {
                params.push((oslc_core::query::PAGE_TOKEN_PARAM.to_owned(), token.clone()));
            }
            let query =
                Query::from_params(params.iter().map(|(k, v)| (k.as_str(), v.as_str())), &Default::default()).unwrap();
            let page = evaluate_within(&query, listed.clone(), Evaluation::Filter, Some(40), None).unwrap();
            all.extend(page.members.iter().map(|m| (m.order, m.resource.subject().as_str().to_owned())));
            assert!(all.len() <= 250, "paging does not end: {:?}", &all[all.len() - 3..]);
            match page.next_page_token {
                Some(next) => token = Some(next),
                None => return all,
            }
        }
    };
    let from_sorted = pages(&sorted);
    assert_eq!(from_sorted, pages(&resources));
    assert_eq!(from_sorted.len(), 250);
    let expected: Vec<String> = (0..250).map(|i| format!("http://tool.test/r/{i}")).collect();
    assert_eq!(from_sorted.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>(), expected);
    assert_eq!(from_sorted.iter().map(|(o, _)| *o).collect::<Vec<_>>(), (1..=250).collect::<Vec<_>>());
}

/// Pages in Turtle and N-Triples are put together from each member's part, kept from earlier pages by the member's
/// ETag: they hold the same triples as the RDF/XML page (written whole), when read again too, and a member that
/// changed shows its new state, never the kept one.
#[tokio::test]
async fn pages_put_together_from_kept_parts_hold_what_pages_written_whole_hold() {
    let (app, provider) = spec_app();
    let params = [
        ("oslc.select", "dcterms:title,dcterms:creator{foaf:name},oslc:modifiedBy"),
        ("oslc.paging", "true"),
        ("oslc.pageSize", "5"),
    ];
    let url = query_url(&params);
    let whole = get(&app, &url, "application/rdf+xml").await.graph(CRS);
    assert!(whole.len() > 20, "{whole}");
    for accept in ["text/turtle", "application/n-triples", "text/turtle", "application/n-triples"] {
        let reply = get(&app, &url, accept).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.graph(CRS), whole, "{accept}: {}", reply.text());
    }
    // The first member of the page gets a new title.
    let first = whole
        .triples_for_predicate(oslc::order)
        .find(|t| matches!(t.object, TermRef::Literal(l) if l.value() == "1"))
        .map(|t| t.subject.to_string())
        .unwrap();
    let id = first.trim_matches(['<', '>']).rsplit('/').next().unwrap().to_owned();
    let item = ITEMS.iter().find(|item| item.0.to_string() == id).unwrap();
    let changed = item_turtle(item).replace(item.6, "A title changed since the last page");
    let graph = rdf::parse(changed.as_bytes(), RdfFormat::Turtle, CRS).unwrap();
    provider.insert(id.clone(), Resource::from_graph(NamedNode::new(format!("{CRS}/{id}")).unwrap(), graph));
    for accept in ["text/turtle", "application/n-triples"] {
        let page = get(&app, &url, accept).await.text();
        assert!(page.contains("A title changed since the last page"), "{accept}: {page}");
        assert!(!page.contains(item.6), "{accept}: the kept part of the previous state was served: {page}");
    }
}
