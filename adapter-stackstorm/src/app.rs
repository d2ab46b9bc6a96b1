//! The adapter's HTTP application: OSLC discovery, rules as change requests (query, create, read, replace,
//! delete), rule actions, actions and executions as OSLC Automation (with [`AppConfig::automation`]), the
//! vocabulary, the TRS, health and readiness, and protection by token, OpenID Connect and browser login.
//!
//! ```
//! use std::sync::Arc;
//! use adapter_stackstorm::{AppConfig, app};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = Arc::new(adapter_stackstorm::demo::demo_store().await?);
//! let config = AppConfig {
//!     public_url: "https://st2-oslc.example".into(),
//!     api_token: Some("secret".into()),
//!     protect_reads: false,
//!     body_limit: 1 << 20,
//!     frame_ancestors: vec!["https://elm.example.com".into()],
//!     oidc: None,
//!     oidc_login: None,
//!     automation: None,
//! };
//! let router: axum::Router = app(store, &config)?;
//! # let _ = router;
//! # Ok(()) }
//! ```

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use axum::Router;
use oslc_core::discovery::{Occurs, Property, Publisher, Representation};
use oslc_core::oxrdf::NamedNode;
use oslc_core::server::auth::login::{BrowserLogin, SESSION_PATH};
use oslc_core::server::auth::oidc::JwtVerifier;
use oslc_core::server::auth::{Auth, Either, NoCredentials, Policy, Sessions, StaticToken};
use oslc_core::server::{
    Built, Collection, CollectionAction, Layout, Metrics, Readiness, Server, ServiceProviderConfig,
};
use oslc_core::vocab::{self, dcterms, oslc_cm, rdf, xsd};
use tower::ServiceBuilder;

use crate::error::AdapterError;
use crate::oslc::actions::{self, Actions};
use crate::oslc::automation::{AutomationUris, ExecutionProvider, PlanProvider};
use crate::oslc::provider::{SetEnabled, is_enabled};
use crate::oslc::{RuleProvider, RuleUris, vocab as st2};
use crate::st2::RuleStore;
use crate::st2::execution::ExecutionStore;
use oslc_events::{BaseProvider, EventLog, Trs};

/// What the HTTP application needs to know.
#[derive(Clone)]
pub struct AppConfig {
    /// The URL clients reach the adapter at; resource IRIs start with it.
    pub public_url: String,
    /// The bearer token writes must carry; without one, writes are refused.
    pub api_token: Option<SecretString>,
    /// Whether reads need the token too.
    pub protect_reads: bool,
    /// The largest request body accepted.
    pub body_limit: usize,
    /// Origins whose pages may frame the delegated dialogs and previews.
    pub frame_ancestors: Vec<String>,
    /// An OpenID provider's access tokens, accepted beside the API token.
    pub oidc: Option<JwtVerifier>,
    /// People logging in at the OpenID provider in a browser (its sessions are the ones Basic logins open too).
    pub oidc_login: Option<BrowserLogin>,
    /// StackStorm's actions and executions, served as OSLC Automation (plans, requests, results) when given.
    pub automation: Option<Arc<dyn ExecutionStore>>,
}

impl std::fmt::Debug for AppConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppConfig")
            .field("public_url", &self.public_url)
            .field("api_token", &self.api_token)
            .field("protect_reads", &self.protect_reads)
            .field("frame_ancestors", &self.frame_ancestors)
            .field("oidc", &self.oidc)
            .field("oidc_login", &self.oidc_login)
            .field("automation", &self.automation.is_some())
            .field("body_limit", &self.body_limit)
            .finish()
    }
}

/// The id of the one service provider (`/serviceProviders/1`).
pub const SERVICE_PROVIDER_ID: &str = "1";
/// The path segment of the rules' collection.
pub const RULES_SEGMENT: &str = "changeRequests";

/// The application over `store`, without events.
///
/// # Errors
/// [`AdapterError::Build`] for a public URL that is not an absolute http(s) URL.
pub fn app(store: Arc<dyn RuleStore>, config: &AppConfig) -> Result<Router, AdapterError> {
    Ok(build(store, config, None)?.router)
}

/// The built application: its router, the rule provider the change sources build events with, and the IRIs the
/// server kit minted.
#[derive(Debug)]
pub struct App {
    /// Every route: OSLC, actions, the TRS (with a log), `/healthz` and `/readyz`.
    pub router: Router,
    /// The rules as OSLC resources.
    pub provider: Arc<RuleProvider>,
    /// The service provider's IRI.
    pub service_provider: NamedNode,
    /// The service provider catalog's IRI.
    pub catalog: NamedNode,
    /// Where the Automation resources are, when StackStorm's actions and executions are served.
    pub automation: Option<AutomationUris>,
    /// The paths of the documents that never change (see [`oslc_core::server::Built::documents`]), for a
    /// [`oslc_core::server::DocumentCache`].
    pub documents: Vec<String>,
    /// The request metrics the router records (served at `/metrics`), to add the adapter's own to.
    pub metrics: Metrics,
}

/// The members of the TRS Base: every rule, and the results of the executions listed.
struct RuleBase(Arc<RuleProvider>, Option<(Arc<dyn ExecutionStore>, AutomationUris)>);

#[async_trait::async_trait]
impl BaseProvider for RuleBase {
    async fn members(&self) -> oslc_events::Result<Vec<NamedNode>> {
        let failed = |e: crate::st2::St2Error| oslc_events::Error::Oslc(e.into());
        let rules = self.0.store().list(None).await.map_err(failed)?;
        let mut members: Vec<NamedNode> =
            rules.rules.iter().filter_map(|r| r.id.as_deref()).map(|id| self.0.member(id)).collect();
        if let Some((executions, uris)) = &self.1 {
            let listed = executions.executions(crate::oslc::automation::LISTED_EXECUTIONS).await.map_err(failed)?;
            members.extend(listed.iter().map(|e| uris.results.member(&e.id)));
        }
        Ok(members)
    }
}

/// The application over `store`, serving the TRS of `log` at `/trs` when given; `/readyz` always says ready.
///
/// # Errors
/// [`AdapterError::Build`] for a public URL that is not an absolute http(s) URL.
pub fn build(
    store: Arc<dyn RuleStore>,
    config: &AppConfig,
    log: Option<Arc<dyn EventLog>>,
) -> Result<App, AdapterError> {
    build_with_log(store, config, log.map(|log| (log, String::new())), Readiness::new())
}

/// [`build`], with the event log's identity (its TRS change log segments are served under it, see
/// [`Trs::with_epoch`]; an empty identity serves them without one) and the checks `/readyz` reports.
///
/// # Errors
/// As [`build`].
pub fn build_with_log(
    store: Arc<dyn RuleStore>,
    config: &AppConfig,
    log: Option<(Arc<dyn EventLog>, String)>,
    readiness: Readiness,
) -> Result<App, AdapterError> {
    // The kit's own layout names the rules before the server is built (the provider makes their IRIs).
    let layout = Layout::new(&config.public_url)?;
    let base = layout.base().to_owned();
    let uris = RuleUris {
        container: layout.container(SERVICE_PROVIDER_ID, RULES_SEGMENT)?,
        service_provider: layout.service_provider(SERVICE_PROVIDER_ID)?,
    };
    let uris_sp = uris.service_provider.clone();
    let provider = Arc::new(RuleProvider::new(store, uris));
    let text = |name: &str, p: oslc_core::oxrdf::NamedNodeRef<'_>, occurs| {
        Property::new(name, p.into_owned(), occurs).with_value_type(xsd::string.into_owned())
    };
    let json = |name: &str, p: oslc_core::oxrdf::NamedNodeRef<'_>| {
        Property::new(name, p.into_owned(), Occurs::ZeroOrOne).with_value_type(rdf::JSON.into_owned())
    };
    let collection = Collection::new(RULES_SEGMENT, provider.clone())
        .with_title("StackStorm rules")
        .with_domain(NamedNode::new_unchecked(oslc_cm::NS))
        .with_resource_type(oslc_cm::ChangeRequest.into_owned())
        .with_resource_type(st2::Rule.into_owned())
        .with_property(text("identifier", dcterms::identifier, Occurs::ExactlyOne).with_read_only(true))
        .with_property(text("title", dcterms::title, Occurs::ExactlyOne).with_description("The rule's name"))
        .with_property(text("description", dcterms::description, Occurs::ZeroOrOne))
        .with_property(
            text("pack", st2::pack, Occurs::ExactlyOne)
                .with_default_value(oslc_core::oxrdf::Literal::new_simple_literal("default"))
                .with_description("The pack the rule belongs to (default: default)"),
        )
        .with_property(text("ref", st2::r#ref, Occurs::ExactlyOne).with_read_only(true))
        .with_property(
            Property::new("enabled", st2::enabled.into_owned(), Occurs::ExactlyOne)
                .with_value_type(xsd::boolean.into_owned())
                .with_default_value(oslc_core::oxrdf::Literal::new_typed_literal("false", xsd::boolean))
                .with_description("Whether the rule is enabled (default on create: false, as st2 does)"),
        )
        .with_property(text("status", oslc_cm::status, Occurs::ZeroOrOne).with_read_only(true))
        .with_property(text("triggerType", st2::triggerType, Occurs::ExactlyOne))
        .with_property(text("triggerRef", st2::triggerRef, Occurs::ZeroOrOne).with_read_only(true))
        .with_property(json("triggerParameters", st2::triggerParameters).with_description(
            "The trigger's parameters as a JSON object: required by the triggers whose type declares parameters \
             (core.st2.webhook: url; core.st2.IntervalTimer: unit and delta; core.st2.DateTimer: date; \
             core.st2.CronTimer: its cron fields), empty for the others",
        ))
        .with_property(json("criteria", st2::criteria).with_description("The rule's criteria as a JSON object"))
        .with_property(text("actionRef", st2::actionRef, Occurs::ExactlyOne))
        .with_property(
            json("actionParameters", st2::actionParameters)
                .with_description("The action's parameters as a JSON object; secret ones are shown as ********"),
        )
        .with_property(
            Property::new("tag", st2::tag.into_owned(), Occurs::ZeroOrMany).with_representation(Representation::Inline),
        )
        .with_action(
            CollectionAction::post(
                "enable",
                "Enable",
                Arc::new(SetEnabled { provider: provider.clone(), enabled: true }),
            )
            .with_description("Enable the rule (st2 rule enable)")
            .available_when(|r| !is_enabled(r)),
        )
        .with_action(
            CollectionAction::post(
                "disable",
                "Disable",
                Arc::new(SetEnabled { provider: provider.clone(), enabled: false }),
            )
            .with_description("Disable the rule (st2 rule disable)")
            .available_when(is_enabled),
        )
        .with_action(CollectionAction::delete("Delete").with_description("Delete the rule"));
    let mut builder = Server::builder(&base)?;
    if log.is_some() {
        builder = builder.with_page_link("Live events", LIVE_EVENTS_PATH);
    }
    if config.oidc_login.is_some() {
        builder = builder.with_page_link("Session", SESSION_PATH);
    }
    if let Some(jwt) = &config.oidc {
        builder = builder.with_oidc_issuer(&jwt.options().issuer)?;
    }
    for origin in &config.frame_ancestors {
        builder = builder.with_frame_ancestor(origin)?;
    }
    let mut service_provider = ServiceProviderConfig::new(SERVICE_PROVIDER_ID, "StackStorm rules")
        .with_description("The rules of one StackStorm")
        .with_collection(collection);
    let mut automation = None;
    if let Some(executions) = &config.automation {
        let (collections, uris) = automation_collections(&layout, executions.clone())?;
        for collection in collections {
            service_provider = service_provider.with_collection(collection);
        }
        automation = Some((executions.clone(), uris));
    }
    let oslc: Built = builder
        .with_title("StackStorm OSLC adapter")
        .with_description("StackStorm rules as OSLC change requests, actions and executions as OSLC Automation")
        .with_publisher(Publisher::new("StackStorm OSLC adapter", "st2-oslc"))
        .with_prefix(st2::PREFIX, st2::NS)
        .with_body_limit(config.body_limit)
        // CORS goes around everything below (auth included), so 401s, /trs, /vocab and the actions carry it.
        .with_cors(None)
        // The kit's own layer (OSLC-Core-Version) goes innermost in the OSLC routes' one stack of layers, below.
        .without_route_layer()
        .with_service_provider(service_provider)
        .with_document("/vocab", vocabulary()?)
        .build()?;
    let mut prefixes = vocab::standard_prefixes();
    prefixes.insert(st2::PREFIX, st2::NS);
    let actions = Actions { provider: provider.clone(), prefixes, base: base.clone(), body_limit: config.body_limit };
    // Writes (and with --protect-reads, reads) need the API token, as a bearer token or a Basic password; a Basic
    // login opens a cookie session, on which Jazz-style clients (oslc-client) write.
    let policy = if config.protect_reads { Policy::protect_all() } else { Policy::protect_writes() };
    // With an OpenID provider, its tokens are taken too, their scopes deciding reads, writes and actions.
    let sessions = || app_sessions(config);
    let auth = match (&config.api_token, &config.oidc) {
        (Some(token), Some(jwt)) => {
            Auth::new(Either::new(StaticToken::new(token.expose_secret()).with_realm("st2-oslc"), jwt.clone()), policy)
                .with_sessions(sessions())
        }
        (Some(token), None) => {
            Auth::new(StaticToken::new(token.expose_secret()).with_realm("st2-oslc"), policy).with_sessions(sessions())
        }
        (None, Some(jwt)) => Auth::new(jwt.clone(), policy),
        (None, None) => Auth::new(NoCredentials, policy),
    }
    .with_actions(&oslc);
    // People in a browser log in at the provider; their sessions are the Basic logins' too.
    let auth = match &config.oidc_login {
        Some(login) => auth.with_login(login.clone()),
        None => auth,
    };
    let service_provider = oslc.provider(SERVICE_PROVIDER_ID).map(|p| p.iri.clone()).unwrap_or(uris_sp);
    let catalog = oslc.catalog.clone();
    let documents = oslc.documents.clone();
    let kit_layer = oslc.layer.clone();
    let kit = Router::from(oslc);
    let mut protected = actions::routes(actions);
    if let Some((log, identity)) = log {
        let log_for_live = log.clone();
        let mut trs = Trs::new(format!("{base}/trs"), log, Arc::new(RuleBase(provider.clone(), automation.clone())));
        if !identity.is_empty() {
            trs = trs.with_epoch(identity.chars().take(12).collect::<String>());
        }
        protected = protected
            .merge(oslc_events::trs::server::router(trs, "/trs"))
            .merge(oslc_events::live::router(log_for_live, LIVE_EVENTS_PATH));
    }
    let mut open = Router::new().merge(readiness.routes()).merge(oslc_events::schema::router());
    if let Some(login) = &config.oidc_login {
        open = open.merge(login.router());
    }
    if let Some(jwt) = &config.oidc {
        // Where clients learn which issuer to get a token from (RFC 9728), named in every Bearer challenge.
        open = open.merge(jwt.metadata_router());
    }
    // Every request counted and timed by route (outermost), CORS around everything below it (so 401s, /trs, /vocab
    // and the actions carry it), then auth for the OSLC routes, and for the kit's routes the kit's own layer
    // (OSLC-Core-Version) innermost. Each group takes its layers as one tower stack: every `Router::layer` call is one
    // more boxed service a request goes through, cloned on each call.
    let metrics = Metrics::new();
    let cors = oslc_core::server::OslcCorsLayer::default();
    let outer = ServiceBuilder::new().layer(metrics.clone()).layer(cors.clone()).layer(auth);
    let kit = kit.layer(outer.clone().layer(kit_layer));
    let protected = kit.merge(protected.layer(outer));
    let open = open.layer(ServiceBuilder::new().layer(metrics.clone()).layer(cors));
    // /metrics itself is outside: neither counted nor behind auth. `open` goes last: a path no route matches is
    // answered by the fallback of the router merged last, so a 404 is counted and carries CORS, as before.
    let router = protected.merge(metrics.routes()).merge(open);
    let automation = automation.map(|(_, uris)| uris);
    Ok(App { router, provider, service_provider, catalog, automation, documents, metrics })
}

/// The path segments of the Automation collections.
pub const PLANS_SEGMENT: &str = "automationPlans";
/// See [`PLANS_SEGMENT`].
pub const REQUESTS_SEGMENT: &str = "automationRequests";
/// See [`PLANS_SEGMENT`].
pub const RESULTS_SEGMENT: &str = "automationResults";

/// Reruns an execution (the result's `rerun` action): the new execution's result.
struct Rerun(Arc<ExecutionProvider>);

#[async_trait::async_trait]
impl oslc_core::server::ActionHandler for Rerun {
    async fn run(
        &self,
        _container: &oslc_core::Container,
        id: &str,
        _current: oslc_core::Resource,
    ) -> oslc_core::Result<oslc_core::Resource> {
        self.0.re_run(id).await
    }
}

/// Cancels an execution (the `cancel` action of a request or result).
struct Cancel(Arc<ExecutionProvider>);

#[async_trait::async_trait]
impl oslc_core::server::ActionHandler for Cancel {
    async fn run(
        &self,
        container: &oslc_core::Container,
        id: &str,
        current: oslc_core::Resource,
    ) -> oslc_core::Result<oslc_core::Resource> {
        use oslc_core::ResourceProvider as _;
        let mut asked = oslc_core::Resource::new(current.subject().into_owned());
        asked.insert(vocab::oslc_auto::desiredState, vocab::oslc_auto::canceled);
        // The execution moves on by itself: a cancel asked for while it does is still meant.
        self.0.replace(container, id, asked, &oslc_core::IfMatch::new("*")).await
    }
}

/// A plan's OSLC Action in Automation's automation-request pattern (OSLC Actions 3.0): POST an
/// `oslc_auto:AutomationRequest` executing the plan to the requests' creation factory; the final status is the
/// `oslc_auto:AutomationResult`'s state and verdict. The body holds no input parameters: an action whose parameters
/// are required needs them added.
fn run_plan(requests: NamedNode) -> CollectionAction {
    CollectionAction::request("run", "Run", move |plan| {
        let mut body = oslc_core::Resource::new(NamedNode::new_unchecked(format!("{}#request", plan.as_str())));
        body.add_type(vocab::oslc_auto::AutomationRequest);
        body.insert(vocab::oslc_auto::executesAutomationPlan, plan);
        oslc_core::actions::HttpRequest::new("POST", requests.clone())
            .with_header("Content-Type", "text/turtle")
            .with_body_resource(body)
            .with_final_status_location(vocab::oslc_auto::AutomationResult.into_owned())
    })
    .with_description("Run the StackStorm action (an AutomationRequest; its AutomationResult says how it went)")
}

/// Whether an execution's resource says it is still going (not complete or canceled).
fn is_going(resource: &oslc_core::Resource) -> bool {
    !matches!(
        resource.object(vocab::oslc_auto::state),
        Some(oslc_core::oxrdf::TermRef::NamedNode(s))
            if s == vocab::oslc_auto::complete || s == vocab::oslc_auto::canceled || s == vocab::oslc_auto::canceling
    )
}

/// The Automation collections: StackStorm's actions as plans, and its executions as requests (creating one runs an
/// action) and results.
fn automation_collections(
    layout: &Layout,
    executions: Arc<dyn ExecutionStore>,
) -> Result<(Vec<Collection>, AutomationUris), AdapterError> {
    use vocab::oslc_auto;
    let uris = AutomationUris {
        plans: layout.container(SERVICE_PROVIDER_ID, PLANS_SEGMENT)?,
        requests: layout.container(SERVICE_PROVIDER_ID, REQUESTS_SEGMENT)?,
        results: layout.container(SERVICE_PROVIDER_ID, RESULTS_SEGMENT)?,
        service_provider: layout.service_provider(SERVICE_PROVIDER_ID)?,
    };
    let domain = NamedNode::new_unchecked(oslc_auto::NS);
    let computed = |name: &str, p: oslc_core::oxrdf::NamedNodeRef<'_>, occurs| {
        Property::new(name, p.into_owned(), occurs).with_read_only(true)
    };
    let resource = |name: &str, p: oslc_core::oxrdf::NamedNodeRef<'_>, occurs| {
        Property::new(name, p.into_owned(), occurs).with_value_type(vocab::oslc::Resource.into_owned())
    };
    let inline = |name: &str, p: oslc_core::oxrdf::NamedNodeRef<'_>| {
        Property::new(name, p.into_owned(), Occurs::ZeroOrMany)
            .with_value_type(vocab::oslc::LocalResource.into_owned())
            .with_representation(Representation::Inline)
    };
    let plans = Collection::new(PLANS_SEGMENT, Arc::new(PlanProvider::new(executions.clone(), uris.clone())))
        .with_title("StackStorm actions")
        .with_domain(domain.clone())
        .with_resource_type(oslc_auto::AutomationPlan.into_owned())
        .with_property(
            computed("identifier", dcterms::identifier, Occurs::ExactlyOne).with_description("The action's ref"),
        )
        .with_property(computed("title", dcterms::title, Occurs::ExactlyOne))
        .with_property(computed("description", dcterms::description, Occurs::ZeroOrOne))
        .with_property(computed("pack", st2::pack, Occurs::ExactlyOne))
        .with_property(computed("runnerType", st2::runnerType, Occurs::ExactlyOne))
        .with_property(inline("parameterDefinition", oslc_auto::parameterDefinition).with_read_only(true))
        .with_action(run_plan(uris.requests.iri().into_owned()));
    let requests_provider = Arc::new(ExecutionProvider::requests(executions.clone(), uris.clone()));
    let requests = Collection::new(REQUESTS_SEGMENT, requests_provider.clone())
        .with_title("StackStorm action runs")
        .with_domain(domain.clone())
        .with_resource_type(oslc_auto::AutomationRequest.into_owned())
        .with_property(
            // Required to create a request (the provider says so); a PUT that only cancels leaves it out.
            resource("executesAutomationPlan", oslc_auto::executesAutomationPlan, Occurs::ZeroOrOne)
                .with_description("The plan (StackStorm action) to run; required to create a request"),
        )
        .with_property(
            inline("inputParameter", oslc_auto::inputParameter)
                .with_description("The action's parameters, each a node with oslc:name and rdf:value"),
        )
        .with_property(
            computed("identifier", dcterms::identifier, Occurs::ExactlyOne).with_description("The execution's id"),
        )
        .with_property(computed("title", dcterms::title, Occurs::ExactlyOne))
        .with_property(computed("state", oslc_auto::state, Occurs::OneOrMany))
        .with_property(
            resource("desiredState", oslc_auto::desiredState, Occurs::ZeroOrOne)
                .with_description("oslc_auto:canceled cancels the execution"),
        )
        .with_action(
            CollectionAction::post("cancel", "Cancel", Arc::new(Cancel(requests_provider.clone())))
                .with_description("Cancel the execution (st2 execution cancel)")
                .available_when(is_going),
        );
    let results_provider = Arc::new(ExecutionProvider::results(executions, uris.clone()));
    let results = Collection::new(RESULTS_SEGMENT, results_provider.clone())
        .with_title("StackStorm executions")
        .with_domain(domain)
        .with_resource_type(oslc_auto::AutomationResult.into_owned())
        .with_property(
            computed("identifier", dcterms::identifier, Occurs::ExactlyOne).with_description("The execution's id"),
        )
        .with_property(computed("title", dcterms::title, Occurs::ExactlyOne))
        .with_property(computed("state", oslc_auto::state, Occurs::OneOrMany))
        .with_property(computed("verdict", oslc_auto::verdict, Occurs::OneOrMany))
        .with_property(computed("reportsOnAutomationPlan", oslc_auto::reportsOnAutomationPlan, Occurs::ExactlyOne))
        .with_property(computed("status", st2::status, Occurs::ExactlyOne).with_description("StackStorm's status"))
        .with_property(
            resource("desiredState", oslc_auto::desiredState, Occurs::ZeroOrOne)
                .with_description("oslc_auto:canceled cancels the execution"),
        )
        .with_action(
            CollectionAction::post("cancel", "Cancel", Arc::new(Cancel(results_provider.clone())))
                .with_description("Cancel the execution (st2 execution cancel)")
                .available_when(is_going),
        )
        .with_action(
            CollectionAction::post("rerun", "Run again", Arc::new(Rerun(results_provider)))
                .with_description("Run the action again with the same parameters (st2 execution re-run)"),
        );
    Ok((vec![plans, requests, results], uris))
}

/// The cookie sessions of Basic and browser logins: `Secure` when the public URL is https, and then sent in other
/// sites' frames too when origins may frame the dialogs (`SameSite=None`; writes keep the CSRF rule).
#[must_use]
pub fn app_sessions(config: &AppConfig) -> Sessions {
    let https = config.public_url.starts_with("https:");
    Sessions::new().secure(https).cross_site(https && !config.frame_ancestors.is_empty())
}

/// Where the live page and Server-Sent Events stream of the event log are served.
pub const LIVE_EVENTS_PATH: &str = "/events/live";

/// The `st2` vocabulary as Turtle.
/// The `st2:` vocabulary (`oslc/st2-vocab.ttl`), served negotiated like every other document.
fn vocabulary() -> Result<oslc_core::Resource, AdapterError> {
    let graph =
        oslc_core::rdf::parse(include_bytes!("oslc/st2-vocab.ttl"), oslc_core::rdf::RdfFormat::Turtle, st2::NS)?;
    Ok(oslc_core::Resource::from_graph(NamedNode::new_unchecked(st2::NS), graph))
}
