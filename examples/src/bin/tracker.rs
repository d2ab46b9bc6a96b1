//! A minimal OSLC adapter for a toy tool: an in-memory tracker of change requests, built with `oslc-core` alone.
//!
//! This is the template to copy for a new tool. It has the parts every adapter has:
//! 1. the tool's own record (`ChangeRequest`) and its mapping to and from RDF (`ToGraph` / `FromGraph`);
//! 2. a `ResourceProvider` that reads and writes the tool (here a map in memory; in your adapter, its API);
//! 3. its changes as OSLC Events: the provider wrapped in `oslc_events::tracked::Tracked` logs each write, served
//!    as a TRS at `/trs` and, with `--kafka-brokers`, relayed to Kafka (a tool that others change too would use a
//!    change source that reads it, such as `oslc_events::poller::SnapshotPoller`);
//! 4. `app`, which describes the service provider with its one OSLC Action (closing an open change request, which
//!    the kit advertises on each open one with an `http:Request` binding), protects writes, and adds the TRS, the
//!    live event feed (`/events/live`) and `/healthz` and `/readyz`. The kit gives it, with no code of its own,
//!    pages for a browser at every URL, delegated selection and creation dialogs, and resource previews.
//!
//! Run it and talk OSLC to it:
//!
//! ```text
//! cargo run -p examples --bin tracker -- --listen 127.0.0.1:8081
//! curl -H 'Accept: text/turtle' http://127.0.0.1:8081/serviceProviders/catalog
//! curl -i -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/turtle' \
//!      http://127.0.0.1:8081/serviceProviders/1/changeRequests \
//!      --data '<> <http://purl.org/dc/terms/title> "Review rule core.notify" .'
//! curl -H 'Accept: application/ld+json' http://127.0.0.1:8081/serviceProviders/1/changeRequests/1
//! ```
//!
//! Flags (or environment): `--listen ADDR` (`TRACKER_LISTEN`, default `127.0.0.1:8081`), `--public-url URL`
//! (`TRACKER_PUBLIC_URL`, default `http://ADDR`), `--api-token TOKEN` (`TRACKER_API_TOKEN`; writes need it as a
//! bearer token or a Basic password; without one a token is made and printed), `--oidc-issuer URL` and
//! `--oidc-audience AUD` (`TRACKER_OIDC_ISSUER`, `TRACKER_OIDC_AUDIENCE`, default the public URL: also take that
//! OpenID provider's access tokens, scopes `oslc.read` and `oslc.write`), `--kafka-brokers HOSTS` and
//! `--kafka-topic TOPIC` (`TRACKER_KAFKA_BROKERS`, `TRACKER_KAFKA_TOPIC`, default `tracker_event`). It prints
//! `listening on ADDR` once it accepts connections.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use oslc_core::discovery::{Occurs, Property, Publisher};
use oslc_core::oxrdf::{Graph, Literal, NamedNode, NamedOrBlankNodeRef, TermRef, TripleRef};
use oslc_core::server::ServiceProviderConfig;
use oslc_core::server::auth::oidc::{JwtVerifier, OidcOptions, PROTECTED_RESOURCE_METADATA_PATH};
use oslc_core::server::auth::{Auth, Either, Policy, Sessions, StaticToken};
use oslc_core::server::{ActionHandler, BuildError, Collection, CollectionAction, Layout, Metrics, OslcCorsLayer};
use oslc_core::server::{Readiness, Server};
use oslc_core::vocab::{dcterms, oslc_cm, rdf, xsd};
use oslc_core::{Container, Error, FromGraph, IfMatch, Resource, ResourceProvider, Result, ToGraph};
use oslc_events::kafka::{KafkaConfig, KafkaSink};
use oslc_events::metrics::LogMetrics;
use oslc_events::{EventLog, MemoryEventLog, Relay, Trs};

/// 1. The tool's record.
#[derive(Debug, Clone, PartialEq)]
struct ChangeRequest {
    title: String,
    description: Option<String>,
    closed: bool,
    /// Resources this change request is about (`dcterms:references`), such as a StackStorm rule.
    references: Vec<NamedNode>,
}

impl ToGraph for ChangeRequest {
    fn add_to_graph(&self, s: NamedOrBlankNodeRef<'_>, graph: &mut Graph) {
        graph.insert(TripleRef::new(s, rdf::r#type, oslc_cm::ChangeRequest));
        graph.insert(TripleRef::new(s, dcterms::title, &Literal::new_simple_literal(&self.title)));
        if let Some(description) = &self.description {
            graph.insert(TripleRef::new(s, dcterms::description, &Literal::new_simple_literal(description)));
        }
        let closed = Literal::new_typed_literal(self.closed.to_string(), xsd::boolean);
        graph.insert(TripleRef::new(s, oslc_cm::closed, &closed));
        for reference in &self.references {
            graph.insert(TripleRef::new(s, dcterms::references, reference));
        }
    }
}

impl FromGraph for ChangeRequest {
    fn from_graph(s: NamedOrBlankNodeRef<'_>, graph: &Graph) -> Result<Self> {
        let text = |p| match graph.object_for_subject_predicate(s, p) {
            Some(TermRef::Literal(l)) => Some(l.value().to_owned()),
            _ => None,
        };
        let title = text(dcterms::title)
            .ok_or_else(|| Error::InvalidResource { message: "a change request needs a dcterms:title".into() })?;
        let closed = match text(oslc_cm::closed).as_deref() {
            None | Some("false" | "0") => false,
            Some("true" | "1") => true,
            Some(other) => {
                return Err(Error::InvalidResource {
                    message: format!("oslc_cm:closed must be a boolean, not {other:?}"),
                });
            }
        };
        let references = graph
            .objects_for_subject_predicate(s, dcterms::references)
            .filter_map(|o| match o {
                TermRef::NamedNode(n) => Some(n.into_owned()),
                _ => None,
            })
            .collect();
        Ok(Self { title, description: text(dcterms::description), closed, references })
    }
}

/// 2. The provider: the tool behind OSLC. Ids are the tool's own (here, increasing numbers).
#[derive(Default)]
struct Tracker {
    records: Mutex<BTreeMap<u64, ChangeRequest>>,
}

impl Tracker {
    fn records(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, ChangeRequest>> {
        self.records.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn parse_id(container: &Container, id: &str) -> Result<u64> {
    id.parse().map_err(|_| Error::not_found(container.member(id).as_str()))
}

fn to_resource(container: &Container, id: u64, record: &ChangeRequest) -> Resource {
    let mut resource = Resource::from_value(container.member(&id.to_string()), record);
    resource.insert(dcterms::identifier, &Literal::new_simple_literal(id.to_string()));
    resource
}

#[async_trait]
impl ResourceProvider for Tracker {
    async fn list(&self, container: &Container) -> Result<Vec<Resource>> {
        Ok(self.records().iter().map(|(id, r)| to_resource(container, *id, r)).collect())
    }

    async fn get(&self, container: &Container, id: &str) -> Result<Resource> {
        let id = parse_id(container, id)?;
        let records = self.records();
        let record = records.get(&id).ok_or_else(|| Error::not_found(container.member(&id.to_string()).as_str()))?;
        Ok(to_resource(container, id, record))
    }

    async fn create(&self, container: &Container, resource: Resource) -> Result<Resource> {
        let record: ChangeRequest = resource.to_value()?;
        let mut records = self.records();
        let id = records.keys().next_back().map_or(1, |last| last + 1);
        records.insert(id, record.clone());
        Ok(to_resource(container, id, &record))
    }

    async fn replace(
        &self,
        container: &Container,
        id: &str,
        resource: Resource,
        if_match: &IfMatch,
    ) -> Result<Resource> {
        let id = parse_id(container, id)?;
        let record: ChangeRequest = resource.to_value()?;
        let mut records = self.records();
        let current = records.get(&id).ok_or_else(|| Error::not_found(container.member(&id.to_string()).as_str()))?;
        let current = to_resource(container, id, current);
        if_match.check(current.subject(), &current.etag())?;
        records.insert(id, record.clone());
        Ok(to_resource(container, id, &record))
    }

    async fn delete(&self, container: &Container, id: &str, if_match: Option<&IfMatch>) -> Result<()> {
        let id = parse_id(container, id)?;
        let mut records = self.records();
        let current = records.get(&id).ok_or_else(|| Error::not_found(container.member(&id.to_string()).as_str()))?;
        if let Some(if_match) = if_match {
            let current = to_resource(container, id, current);
            if_match.check(current.subject(), &current.etag())?;
        }
        records.remove(&id);
        Ok(())
    }
}

/// The tool as served: its writes logged as events.
type Tracked = oslc_events::tracked::Tracked<Tracker>;

/// The Close action (OSLC Actions 3.0): declared on the collection, the kit advertises it on each open change
/// request and runs it at `POST …/{id}/close`; it writes through the tracked provider, so closing is an event too.
struct Close(Arc<Tracked>);

#[async_trait]
impl ActionHandler for Close {
    async fn run(&self, container: &Container, id: &str, current: Resource) -> Result<Resource> {
        let mut record: ChangeRequest = current.to_value()?;
        record.closed = true;
        let closed = Resource::from_value(current.subject().into_owned(), &record);
        self.0.replace(container, id, closed, &IfMatch::etag(&current.etag())).await
    }
}

fn is_open(resource: &Resource) -> bool {
    !matches!(resource.object(oslc_cm::closed), Some(TermRef::Literal(l)) if l.value() == "true")
}

/// 4. Describe the service provider, with its Close action, and serve it with its TRS; writes need the API token.
fn app(
    public_url: &str,
    api_token: &str,
    log: Arc<dyn EventLog>,
    ready: Readiness,
    metrics: &Metrics,
    oidc: Option<JwtVerifier>,
) -> Result<axum::Router, BuildError> {
    let layout = Layout::new(public_url)?;
    let container = layout.container("1", "changeRequests")?;
    let tracker = Arc::new(Tracked::new(Tracker::default(), log.clone(), container));
    let text = |name: &str, p: oslc_core::oxrdf::NamedNodeRef<'_>, occurs| {
        Property::new(name, p.into_owned(), occurs).with_value_type(xsd::string.into_owned())
    };
    let mut builder = Server::builder(public_url)?;
    if let Some(jwt) = &oidc {
        // The catalog and service provider name the issuer, so a client finds where to get a token.
        builder = builder.with_oidc_issuer(&jwt.options().issuer)?;
    }
    let built = builder
        .with_title("Toy tracker")
        .with_publisher(Publisher::new("Toy tracker", "toy-tracker"))
        // CORS around the auth layer (below), so 401 answers carry it too.
        .with_cors(None)
        // The live feed of its events (below), linked from the pages for people.
        .with_page_link("Live events", "/events/live")
        .with_service_provider(
            ServiceProviderConfig::new("1", "Toy tracker project").with_collection(
                Collection::new("changeRequests", tracker.clone())
                    .with_title("Change requests")
                    .with_domain(NamedNode::new_unchecked(oslc_cm::NS))
                    .with_resource_type(oslc_cm::ChangeRequest.into_owned())
                    .with_property(text("title", dcterms::title, Occurs::ExactlyOne))
                    .with_property(text("description", dcterms::description, Occurs::ZeroOrOne))
                    .with_property(
                        Property::new("closed", oslc_cm::closed.into_owned(), Occurs::ZeroOrOne)
                            .with_value_type(xsd::boolean.into_owned()),
                    )
                    .with_property(Property::new("references", dcterms::references.into_owned(), Occurs::ZeroOrMany))
                    .with_action(
                        CollectionAction::post("close", "Close", Arc::new(Close(tracker.clone())))
                            .with_description("Close the change request")
                            .available_when(is_open),
                    ),
            ),
        )
        .build::<()>()?;
    let live = oslc_events::live::router(log.clone(), "/events/live");
    let trs = oslc_events::trs::server::router(Trs::new(layout.iri("/trs")?.into_string(), log, tracker), "/trs");
    let token = StaticToken::new(api_token).with_realm("tracker");
    // With an OpenID provider, its tokens are taken too (a bridge's, from the client credentials grant).
    let auth = match &oidc {
        Some(jwt) => Auth::new(Either::new(token, jwt.clone()), Policy::protect_writes()),
        None => Auth::new(token, Policy::protect_writes()),
    };
    let mut protected =
        auth.with_sessions(Sessions::new()).with_actions(&built).layer(built.router.merge(trs).merge(live));
    if let Some(jwt) = &oidc {
        protected = protected.merge(jwt.metadata_router());
    }
    // Requests counted and timed by route; /healthz, /readyz and /metrics need no token.
    Ok(metrics.layer(protected).merge(ready.routes()).merge(metrics.routes()).layer(OslcCorsLayer::default()))
}

fn flag(name: &str, env: &str) -> Option<String> {
    let mut args = std::env::args().skip_while(|a| a != name).skip(1);
    args.next().or_else(|| std::env::var(env).ok())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let listen = flag("--listen", "TRACKER_LISTEN").unwrap_or_else(|| "127.0.0.1:8081".into());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    let addr = listener.local_addr()?;
    let public_url = flag("--public-url", "TRACKER_PUBLIC_URL").unwrap_or_else(|| format!("http://{addr}"));
    let given = flag("--api-token", "TRACKER_API_TOKEN");
    let api_token = given.clone().unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    // The toy keeps its records in memory, so its event log lives there too.
    let log: Arc<dyn EventLog> = Arc::new(MemoryEventLog::new());
    let (delivering, delivery) = tokio::sync::watch::channel(true);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let metrics = Metrics::new();
    let relay = match flag("--kafka-brokers", "TRACKER_KAFKA_BROKERS") {
        Some(brokers) => {
            let topic = flag("--kafka-topic", "TRACKER_KAFKA_TOPIC").unwrap_or_else(|| "tracker_event".into());
            let sink = Arc::new(KafkaSink::new(KafkaConfig::new(brokers, &topic))?);
            let gauges = LogMetrics::new(&metrics, log.clone(), format!("relay:{topic}")).with_flag(
                "oslc_events_relay_delivering",
                "1 while events are delivered",
                delivery.clone(),
            );
            tokio::spawn(gauges.run(std::future::pending()));
            let relay = Relay::new(log.clone(), sink, format!("relay:{topic}")).with_status(delivering);
            Some(tokio::spawn(relay.run(async { drop(stopped.await) })))
        }
        None => None,
    };
    let ready = Readiness::new().with_check("events are not being delivered", delivery);
    // `--oidc-issuer URL` (TRACKER_OIDC_ISSUER): also take that OpenID provider's access tokens, for
    // `--oidc-audience` (TRACKER_OIDC_AUDIENCE, default the public URL), scopes oslc.read and oslc.write.
    let oidc = match flag("--oidc-issuer", "TRACKER_OIDC_ISSUER") {
        Some(issuer) => {
            let audience = flag("--oidc-audience", "TRACKER_OIDC_AUDIENCE").unwrap_or_else(|| public_url.clone());
            let options = OidcOptions::new(issuer, audience)
                .with_realm("tracker")
                .with_resource_metadata(format!("{public_url}{PROTECTED_RESOURCE_METADATA_PATH}"));
            Some(JwtVerifier::discover(options).await?)
        }
        None => None,
    };
    let app = app(&public_url, &api_token, log, ready, &metrics, oidc)?;
    println!("listening on {addr}");
    if given.is_none() {
        // Printed, not logged: whoever started the tracker needs it to write.
        println!("tracker API token (Authorization: Bearer …, or Basic with it as password): {api_token}");
    }
    tracing::info!(%addr, %public_url, "toy tracker serving OSLC");
    // Header, idle and request timeouts, a connection limit and a shutdown deadline (ServeConfig's defaults).
    let ctrl_c = async { drop(tokio::signal::ctrl_c().await) };
    oslc_core::server::serve(listener, app, oslc_core::server::ServeConfig::default(), ctrl_c).await?;
    let _ = stop.send(());
    if let Some(relay) = relay {
        relay.await??;
    }
    Ok(())
}
