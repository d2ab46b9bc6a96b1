//! The server kit (feature `server`): an axum [`Router`] that serves discovery documents and turns
//! [`ResourceProvider`]s into OSLC endpoints.
//!
//! Layout, relative to the public base URL given to [`Server::builder`]:
//!
//! | path | methods | what |
//! |---|---|---|
//! | `/serviceProviders/catalog` | GET | the [`ServiceProviderCatalog`] |
//! | `/serviceProviders/{sp}` | GET | a [`ServiceProvider`] |
//! | `/serviceProviders/{sp}/{collection}` | GET, POST, OPTIONS | query capability (OSLC Query 3.0, also as a form POST) and creation factory |
//! | `/serviceProviders/{sp}/{collection}/{id}` | GET, PUT, DELETE, OPTIONS | one resource |
//! | `/resourceShapes/{sp}/{collection}` | GET | the collection's [`ResourceShape`] |
//! | `/dialogs/{sp}/{collection}/selection`, `…/creation` | GET | the collection's delegated dialogs (`oslc:Dialog`) |
//! | `/dialogs/{sp}/{collection}/selection/form`, `…/creation/form` | GET, POST (creation) | the dialogs' pages |
//! | `/static/oslc.css`, `/static/oslc.js`, `/static/resource.svg` | GET | what the pages use |
//!
//! Members also answer `?compact` (their Compact resource, OSLC Core 3.0 Resource Preview, linked from each member
//! response with `Link: <…?compact>; rel="http://open-services.net/ns/core#Compact"` and inlined for
//! `Prefer: return=representation; include="…#PreferCompact"`) and `?preview=small|large` (the preview pages).
//! Collections advertise their dialogs in the service provider, with `Link` headers (`…#selectionDialog`,
//! `…#creationDialog`) and for `Prefer: …include="…#PreferDialog"`.
//!
//! A browser (`Accept: text/html` ahead of every RDF syntax) gets a page at every one of these URLs: the documents
//! as property tables, a collection as a query form with its results, a member with its OSLC Actions as buttons and
//! links to its RDF (`?format=turtle|jsonld|rdfxml|ntriples`). Pages are rendered on the server (maud escapes every
//! value; only `http`/`https` IRIs become links) under a Content Security Policy that runs only `/static/oslc.js`;
//! dialogs and previews may be framed by the origins of [`ServerBuilder::with_frame_ancestor`], other pages by
//! none. A form that changes something (a creation dialog, an action button) is refused with 403 unless the browser
//! says it comes from the server's own origin (`Sec-Fetch-Site`, else `Origin`): a cross-site form would carry
//! cached HTTP Basic credentials.
//!
//! HEAD is answered wherever GET is. Every RDF response carries `OSLC-Core-Version: 3.0`; resources carry an
//! [`ETag`]; errors are `oslc:Error` bodies in the negotiated syntax. The router has no state applied, so it can be
//! merged into or nested in an adapter's own router; when nested under a path, include that path in the base URL.
//!
//! ```
//! use std::sync::Arc;
//! use oslc_core::server::{Collection, Server, ServiceProviderConfig};
//! use oslc_core::{InMemoryProvider, vocab::oslc_cm};
//! use oxrdf::NamedNode;
//!
//! let router: axum::Router = Server::builder("http://localhost:8080")?
//!     .with_title("Toy tracker")
//!     .with_service_provider(ServiceProviderConfig::new("1", "Toy project").with_collection(
//!         Collection::new("changeRequests", Arc::new(InMemoryProvider::new()))
//!             .with_title("Change requests")
//!             .with_domain(NamedNode::new(oslc_cm::NS)?)
//!             .with_resource_type(oslc_cm::ChangeRequest.into_owned()),
//!     ))
//!     .build()?
//!     .into();
//! Ok::<_, Box<dyn std::error::Error>>(())
//! ```

mod actions;
pub mod auth;
mod body;
mod built;
mod cache;
mod core_version;
mod cors;
mod health;
mod metrics;
pub use core_version::{CoreVersion, CoreVersionLayer, Versioned};
pub use cors::{CorsFuture, OslcCorsLayer, PreflightCors};
mod cpu;
mod dialogs;
mod handlers;
mod html;
mod pages;
mod preview;
mod representations;
mod response;
mod results;
mod serve;

use std::sync::Arc;

use axum::Router;
use http::{HeaderName, Method, header};
use oxrdf::NamedNode;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

use crate::discovery::{
    CreationFactory, PrefixDefinition, Property, Publisher, QueryCapability, ResourceShape, Service, ServiceProvider,
    ServiceProviderCatalog,
};
use crate::provider::{Container, ResourceProvider};
use crate::query::QueryLimits;
use crate::rdf::{ParseLimits, Prefixes};
use crate::vocab::{self, oslc};
use crate::{ETag, Resource};

pub use actions::{ActionHandler, CollectionAction};
pub use body::{RdfBody, RdfBodyConfig, parse_body, read_body};
pub use built::{BuildError, Built, BuiltCollection, BuiltProvider, Layout};
pub use cache::DocumentCache;
pub use cpu::{cpu_permits, run_cpu_bound};
pub use health::Readiness;
pub use metrics::{Metrics, MetricsFuture, MetricsService};
pub use preview::{COMPACT_REL, COMPACT_XML, PREFER_COMPACT, PREFER_DIALOG};
pub use prometheus_client;
pub use response::{
    ErrorResponse, OSLC_CORE_VERSION, insert_etag, negotiated_response, rdf_response, resource_response,
};
pub use results::Paging;
pub use serve::{ServeConfig, Served, serve, with_request_limits};

/// The default limit on request bodies: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Builds the OSLC [`Router`]; start with [`Server::builder`].
#[derive(Debug)]
pub struct Server;

impl Server {
    /// A builder for a server whose resources live under `public_base_url` (such as `https://tool.example/oslc`).
    ///
    /// # Errors
    /// [`BuildError::BaseUrl`] if the URL is not an absolute IRI.
    pub fn builder(public_base_url: &str) -> std::result::Result<ServerBuilder, BuildError> {
        let base = Layout::new(public_base_url)?.base().to_owned();
        Ok(ServerBuilder {
            base,
            title: "OSLC service provider catalog".to_owned(),
            description: None,
            publisher: None,
            prefixes: vocab::standard_prefixes(),
            providers: Vec::new(),
            body_limit: DEFAULT_BODY_LIMIT,
            parse_limits: ParseLimits::default(),
            query_limits: QueryLimits::default(),
            paging: Paging::default(),
            representation_cache_bytes: DEFAULT_REPRESENTATION_CACHE_BYTES,
            documents: Vec::new(),
            cors: Some(default_cors()),
            route_layer: true,
            frame_ancestors: Vec::new(),
            page_links: Vec::new(),
            issuer: None,
        })
    }
}

/// CORS for browsers that embed OSLC data: any origin, no credentials; the request headers a preflight asks for are
/// allowed (OSLC clients send `OSLC-Core-Version`, `Configuration-Context`, `X-Jazz-CSRF-Prevent`, `Prefer`…), and
/// the headers OSLC clients read are exposed.
pub fn default_cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::any())
        .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS])
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::LINK,
            header::WWW_AUTHENTICATE,
            header::RETRY_AFTER,
            header::ALLOW,
            OSLC_CORE_VERSION,
            HeaderName::from_static("accept-post"),
        ])
}

/// One resource collection of a service provider: a [`ResourceProvider`] served as a query capability, a creation
/// factory and its members, with a resource shape.
#[derive(Clone)]
pub struct Collection {
    segment: String,
    provider: Arc<dyn ResourceProvider>,
    title: Option<String>,
    domain: Option<NamedNode>,
    resource_types: Vec<NamedNode>,
    properties: Vec<Property>,
    actions: Vec<CollectionAction>,
}

impl std::fmt::Debug for Collection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collection").field("segment", &self.segment).field("title", &self.title).finish_non_exhaustive()
    }
}

impl Collection {
    /// A collection served at `{service provider}/{segment}` by `provider`.
    #[must_use]
    pub fn new(segment: impl Into<String>, provider: Arc<dyn ResourceProvider>) -> Self {
        Self {
            segment: segment.into(),
            provider,
            title: None,
            domain: None,
            resource_types: Vec::new(),
            properties: Vec::new(),
            actions: Vec::new(),
        }
    }

    /// An OSLC Action its members offer: advertised on each member it is available for, run at the route the kit
    /// mints for it (`POST {member}/{name}`, or the member's DELETE for [`CollectionAction::delete`]).
    #[must_use]
    pub fn with_action(mut self, action: CollectionAction) -> Self {
        self.actions.push(action);
        self
    }

    /// The title of its query capability, creation factory and shape (default: the segment).
    #[must_use]
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// The domain of the service it belongs to (default: OSLC Core); collections of one domain share a service.
    #[must_use]
    pub fn with_domain(mut self, domain: NamedNode) -> Self {
        self.domain = Some(domain);
        self
    }

    /// A type of its resources; may be given several times.
    #[must_use]
    pub fn with_resource_type(mut self, resource_type: NamedNode) -> Self {
        self.resource_types.push(resource_type);
        self
    }

    /// A property constraint of its resource shape.
    #[must_use]
    pub fn with_property(mut self, property: Property) -> Self {
        self.properties.push(property);
        self
    }
}

/// A service provider and its collections.
#[derive(Debug, Clone)]
pub struct ServiceProviderConfig {
    id: String,
    title: String,
    description: Option<String>,
    collections: Vec<Collection>,
}

impl ServiceProviderConfig {
    /// A provider served at `/serviceProviders/{id}`.
    #[must_use]
    pub fn new(id: impl Into<String>, title: impl Into<String>) -> Self {
        Self { id: id.into(), title: title.into(), description: None, collections: Vec::new() }
    }

    /// A description.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Adds a collection.
    #[must_use]
    pub fn with_collection(mut self, collection: Collection) -> Self {
        self.collections.push(collection);
        self
    }
}

/// Configures and builds the OSLC [`Router`].
#[derive(Debug)]
#[must_use]
pub struct ServerBuilder {
    base: String,
    title: String,
    description: Option<String>,
    publisher: Option<Publisher>,
    prefixes: Prefixes,
    providers: Vec<ServiceProviderConfig>,
    body_limit: usize,
    parse_limits: ParseLimits,
    query_limits: QueryLimits,
    paging: Paging,
    cors: Option<CorsLayer>,
    route_layer: bool,
    representation_cache_bytes: usize,
    documents: Vec<(String, Resource)>,
    frame_ancestors: Vec<String>,
    page_links: Vec<(String, String)>,
    issuer: Option<NamedNode>,
}

/// The OpenID Connect issuer link relation (OpenID Connect Discovery 1.0 §2), used as the property naming the
/// issuer whose tokens a service provider takes: OSLC has no term for OAuth 2.0 (`oslc:OAuthConfiguration` is
/// OAuth 1.0a's).
pub const OPENID_ISSUER: &str = "http://openid.net/specs/connect/1.0/issuer";

impl ServerBuilder {
    /// The URL layout this server will mint its IRIs in.
    #[must_use]
    pub fn layout(&self) -> Layout {
        Layout { base: self.base.clone() }
    }

    /// Serves `document` at `path` (such as `/vocab` for the adapter's vocabulary) as the discovery documents are
    /// served: negotiated among every syntax the kit writes, with a strong ETag and 304 for `If-None-Match`,
    /// serialized once per syntax.
    ///
    /// ```
    /// use oslc_core::Resource;
    /// use oslc_core::oxrdf::{Literal, NamedNode};
    ///
    /// let mut vocab = Resource::new(NamedNode::new("https://example.com/ns#")?);
    /// vocab.insert(oslc_core::vocab::dcterms::title, &Literal::new_simple_literal("Terms of example.com"));
    /// let router: axum::Router =
    ///     oslc_core::server::Server::builder("http://localhost:8080")?.with_document("/vocab", vocab).build()?.into();
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_document(mut self, path: impl Into<String>, document: Resource) -> Self {
        self.documents.push((path.into(), document));
        self
    }

    /// Page sizes of query capabilities (default: 100 members a page, at most 1000).
    pub fn with_paging(mut self, paging: Paging) -> Self {
        self.paging = paging;
        self
    }

    /// The catalog's title.
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// The catalog's description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The tool that publishes the catalog and providers.
    pub fn with_publisher(mut self, publisher: Publisher) -> Self {
        self.publisher = Some(publisher);
        self
    }

    /// A prefix for responses and for the providers' prefix definitions (the standard OSLC ones are there already).
    pub fn with_prefix(mut self, prefix: impl Into<String>, namespace: impl Into<String>) -> Self {
        self.prefixes.insert(prefix, namespace);
        self
    }

    /// Adds a service provider.
    pub fn with_service_provider(mut self, provider: ServiceProviderConfig) -> Self {
        self.providers.push(provider);
        self
    }

    /// The largest request body accepted, in bytes; larger ones get 413 (default [`DEFAULT_BODY_LIMIT`]).
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The budgets for request bodies once read (default [`ParseLimits::default`]).
    pub fn with_parse_limits(mut self, limits: ParseLimits) -> Self {
        self.parse_limits = limits;
        self
    }

    /// The budgets for queries (default [`QueryLimits::default`]).
    pub fn with_query_limits(mut self, limits: QueryLimits) -> Self {
        self.query_limits = limits;
        self
    }

    /// How many bytes of serialized resources the server keeps to answer reads of unchanged resources without
    /// serializing them again (default [`DEFAULT_REPRESENTATION_CACHE_BYTES`]; 0 keeps none). Entries are keyed by
    /// the resource's ETag, so a changed resource is never answered from it.
    pub fn with_representation_cache(mut self, bytes: usize) -> Self {
        self.representation_cache_bytes = bytes;
        self
    }

    /// The CORS policy of the kit's routes, or `None` to add none (default: [`default_cors`]). An application that
    /// merges routes of its own or puts an auth layer around the kit sets `None` here and applies
    /// [`OslcCorsLayer`] outermost, so every route and every 401 carries the same CORS headers once (to CORS requests,
    /// those with `Origin`).
    pub fn with_cors(mut self, cors: Option<CorsLayer>) -> Self {
        self.cors = cors;
        self
    }

    /// Leaves the kit's own [`KitLayer`] (its CORS, when configured, and `OSLC-Core-Version`) off its routes, for an
    /// application that puts layers of its own around them (auth, metrics): it then adds [`Built::layer`] as the
    /// innermost layer of its own tower stack, and each request goes through one stack of layers rather than two
    /// (axum boxes each `Router::layer` level and clones everything below it on every request).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use oslc_core::server::{Collection, OslcCorsLayer, Server, ServiceProviderConfig};
    /// use oslc_core::InMemoryProvider;
    ///
    /// let built = Server::builder("http://localhost:8080")?
    ///     .with_service_provider(ServiceProviderConfig::new("1", "Toy project")
    ///         .with_collection(Collection::new("changeRequests", Arc::new(InMemoryProvider::new()))))
    ///     .with_cors(None) // CORS goes outermost, around the application's own layers
    ///     .without_route_layer()
    ///     .build::<()>()?;
    /// let kit = built.layer.clone();
    /// let router: axum::Router = axum::Router::from(built).layer(
    ///     tower::ServiceBuilder::new()
    ///         .layer(OslcCorsLayer::default())
    ///         // … the application's own layers (auth, metrics) …
    ///         .layer(kit), // the kit's, innermost
    /// );
    /// # let _ = router;
    /// Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn without_route_layer(mut self) -> Self {
        self.route_layer = false;
        self
    }

    /// An origin (such as `https://elm.example.com`) whose pages may embed this server's delegated dialogs and
    /// previews in a frame; may be given several times. Other pages are never framed; without any, dialogs and
    /// previews are framed only by the server's own pages (CSP `frame-ancestors 'self'`).
    ///
    /// # Errors
    /// [`BuildError::Origin`] when `origin` is not `scheme://host[:port]` (or `*`, which lets any site frame them).
    pub fn with_frame_ancestor(mut self, origin: impl Into<String>) -> std::result::Result<Self, BuildError> {
        let origin = origin.into();
        let valid = origin == "*"
            || (html::origin_of(&origin) == Some(origin.as_str())
                && origin.chars().all(|c| c.is_ascii_alphanumeric() || ":/.-[]".contains(c)));
        if !valid {
            return Err(BuildError::Origin { origin });
        }
        self.frame_ancestors.push(origin);
        Ok(self)
    }

    /// Names the OpenID provider whose tokens the server takes, so clients discover where to log in and get
    /// tokens from the OSLC documents themselves: the catalog and each service provider carry
    /// `<http://openid.net/specs/connect/1.0/issuer> <issuer>` ([`OPENID_ISSUER`], OpenID Connect Discovery's
    /// issuer relation). A 401's challenge names the issuer too, through the protected resource metadata (RFC 9728)
    /// of [`auth::oidc::JwtVerifier::metadata_router`].
    ///
    /// # Errors
    /// [`BuildError::BaseUrl`] when `issuer` is not an absolute IRI.
    pub fn with_oidc_issuer(mut self, issuer: &str) -> std::result::Result<Self, BuildError> {
        let iri = NamedNode::new(issuer)
            .map_err(|e| BuildError::BaseUrl { url: issuer.to_owned(), reason: e.to_string() })?;
        self.issuer = Some(iri);
        Ok(self)
    }

    /// Adds the OpenID issuer to a discovery document, if one was named.
    fn name_issuer(&self, document: &mut Resource) {
        if let Some(issuer) = &self.issuer {
            document.insert(oxrdf::NamedNodeRef::new_unchecked(OPENID_ISSUER), issuer.as_ref());
        }
    }

    /// A link in the navigation bar of the pages for people, such as the adapter's own pages (`path` relative to
    /// the base URL, like `/events/live`); may be given several times.
    pub fn with_page_link(mut self, label: impl Into<String>, path: impl Into<String>) -> Self {
        self.page_links.push((label.into(), path.into()));
        self
    }

    /// Builds the router, with no state applied (so it can be merged into a `Router<S>` of any state), and
    /// returns it with the IRIs it minted.
    ///
    /// # Errors
    /// [`BuildError`] for an id, segment or action name that is empty, holds `/`, repeats, or is the reserved
    /// `catalog`, and for a document path that does not start with `/`.
    pub fn build<S: Clone + Send + Sync + 'static>(self) -> std::result::Result<Built<S>, BuildError> {
        let base = &self.base;
        let layout = Layout::new(base)?;
        let iri = |path: String| layout.iri(&path);
        let mut minted = Vec::new();
        let prefix_definitions: Vec<PrefixDefinition> = self
            .prefixes
            .iter()
            .filter_map(|(p, ns)| NamedNode::new(ns).ok().map(|ns| PrefixDefinition::new(p, ns)))
            .collect();
        let shared = Arc::new(Shared {
            prefixes: {
                // Each collection's properties name their JSON-LD terms, typed by their shapes.
                let mut prefixes = self.prefixes.clone();
                for property in self.providers.iter().flat_map(|p| &p.collections).flat_map(|c| &c.properties) {
                    prefixes.insert_term(
                        property.definition().as_str(),
                        crate::rdf::JsonLdTerm::for_value_type(property.name(), property.value_type()),
                    );
                }
                prefixes
            },
            body_limit: self.body_limit,
            parse_limits: self.parse_limits,
            query_limits: self.query_limits,
            paging: self.paging,
            representations: representations::Representations::new(self.representation_cache_bytes),
            base: base.clone(),
            frame_ancestors: std::iter::once("'self'".to_owned())
                .chain(self.frame_ancestors.iter().cloned())
                .collect::<Vec<_>>()
                .join(" "),
            page_links: self.page_links.iter().map(|(label, path)| (label.clone(), format!("{base}{path}"))).collect(),
        });

        let mut router = Router::new();
        // The paths of the documents that never change, for a `DocumentCache`.
        let mut documents = Vec::new();
        let mut catalog = ServiceProviderCatalog::new(layout.catalog()?, &self.title);
        if let Some(d) = &self.description {
            catalog = catalog.with_description(d);
        }
        if let Some(p) = &self.publisher {
            catalog = catalog.with_publisher(p.clone());
        }
        let mut seen_providers = Vec::new();
        for config in &self.providers {
            check_segment("service provider id", &config.id, &seen_providers)?;
            seen_providers.push(config.id.clone());
            let sp_path = Layout::service_provider_path(&config.id);
            let mut services: Vec<Service> = Vec::new();
            let mut seen_collections = Vec::new();
            let mut built_collections = Vec::new();
            for collection in &config.collections {
                check_segment("collection segment", &collection.segment, &seen_collections)?;
                seen_collections.push(collection.segment.clone());
                let path = Layout::container_path(&config.id, &collection.segment);
                let container = Container::new(iri(path.clone())?);
                let title = collection.title.clone().unwrap_or_else(|| collection.segment.clone());
                let shape_path = Layout::shape_path(&config.id, &collection.segment);
                let shape_iri = iri(shape_path.clone())?;
                let mut shape = ResourceShape::new(shape_iri.clone(), &title);
                // Capabilities are titled for what they do, so a client that looks a provider up by title in the
                // catalog (whose providers embed their services) never mistakes a capability for the provider.
                let mut factory = CreationFactory::new(format!("Create {title}"), container.iri().into_owned())
                    .with_resource_shape(shape_iri.clone());
                let mut query = QueryCapability::new(format!("Query {title}"), container.iri().into_owned())
                    .with_resource_shape(shape_iri);
                for ty in &collection.resource_types {
                    shape = shape.with_describes(ty.clone());
                    factory = factory.with_resource_type(ty.clone());
                    query = query.with_resource_type(ty.clone());
                }
                for property in &collection.properties {
                    shape = shape.with_property(property.clone());
                }
                let domain = collection.domain.clone().unwrap_or_else(|| NamedNode::new_unchecked(oslc::NS));
                let service = match services.iter().position(|s| s.domain() == domain.as_ref()) {
                    Some(i) => services.remove(i),
                    None => Service::new(domain),
                };
                let dialogs = dialogs::DialogIris::new(base, &config.id, &collection.segment);
                let dialog_error =
                    |e: oxrdf::IriParseError| BuildError::Path { path: path.clone(), reason: e.to_string() };
                let (selection_dialog, selection_descriptor) = dialogs::descriptor(
                    &dialogs.selection,
                    &dialogs.selection_form,
                    &format!("Select {title}"),
                    &title,
                    &collection.resource_types,
                )
                .map_err(dialog_error)?;
                let (creation_dialog, creation_descriptor) = dialogs::descriptor(
                    &dialogs.creation,
                    &dialogs.creation_form,
                    &format!("Create {title}"),
                    &title,
                    &collection.resource_types,
                )
                .map_err(dialog_error)?;
                services.push(
                    service
                        .with_creation_factory(factory)
                        .with_query_capability(query)
                        .with_selection_dialog(selection_dialog)
                        .with_creation_dialog(creation_dialog),
                );

                router = router
                    .route(&shape_path, handlers::document(StaticDocument::new(shape.to_resource()), shared.clone()));
                documents.push(shape_path.clone());
                let mut names = Vec::new();
                for action in &collection.actions {
                    check_segment("action name", &action.name, &names)?;
                    names.push(action.name.clone());
                }
                let constrained_by =
                    http::HeaderValue::from_str(&format!("<{base}{shape_path}>; rel=\"{LDP_CONSTRAINED_BY}\""))
                        .map_err(|e| BuildError::Path { path: shape_path.clone(), reason: e.to_string() })?;
                built_collections.push(BuiltCollection {
                    segment: collection.segment.clone(),
                    container: container.clone(),
                    shape: iri(shape_path.clone())?,
                    actions: names.clone(),
                });
                let dialog_link = http::HeaderValue::from_str(&dialogs.link())
                    .map_err(|e| BuildError::Path { path: path.clone(), reason: e.to_string() })?;
                for (kind, descriptor) in [("selection", &selection_descriptor), ("creation", &creation_descriptor)] {
                    let path = dialogs::DialogIris::path(&config.id, &collection.segment, kind);
                    router = router
                        .route(&path, handlers::document(StaticDocument::new(descriptor.clone()), shared.clone()));
                    documents.push(path);
                }
                let state = Arc::new(handlers::CollectionState {
                    container,
                    provider: collection.provider.clone(),
                    shared: shared.clone(),
                    actions: collection.actions.clone(),
                    properties: collection.properties.clone(),
                    constrained_by,
                    title: title.clone(),
                    resource_types: collection.resource_types.clone(),
                    shape: format!("{base}{shape_path}"),
                    dialogs,
                    dialog_link,
                    dialog_descriptors: vec![selection_descriptor, creation_descriptor],
                });
                router = router
                    .route(
                        &format!("{}/form", dialogs::DialogIris::path(&config.id, &collection.segment, "selection")),
                        dialogs::selection_route(state.clone()),
                    )
                    .route(
                        &format!("{}/form", dialogs::DialogIris::path(&config.id, &collection.segment, "creation")),
                        dialogs::creation_route(state.clone()),
                    );
                for action in &collection.actions {
                    if let actions::Binding::Post(handler) = &action.binding {
                        router = router.route(
                            &format!("{path}/{{id}}/{}", action.name),
                            handlers::action_route(state.clone(), action.clone(), handler.clone()),
                        );
                    }
                }
                router = router
                    .route(&path, handlers::collection_routes(state.clone()))
                    .route(&format!("{path}/{{id}}"), handlers::member_routes(state));
            }
            let mut provider = ServiceProvider::new(iri(sp_path.clone())?, &config.title);
            if let Some(d) = &config.description {
                provider = provider.with_description(d);
            }
            if let Some(p) = &self.publisher {
                provider = provider.with_publisher(p.clone());
            }
            for service in services {
                provider = provider.with_service(service);
            }
            for definition in &prefix_definitions {
                provider = provider.with_prefix_definition(definition.clone());
            }
            catalog = catalog.with_service_provider(&provider);
            minted.push(BuiltProvider {
                id: config.id.clone(),
                iri: iri(sp_path.clone())?,
                collections: built_collections,
            });
            let mut provider = provider.to_resource();
            self.name_issuer(&mut provider);
            router = router.route(&sp_path, handlers::document(StaticDocument::new(provider), shared.clone()));
            documents.push(sp_path);
        }
        let mut catalog = catalog.to_resource();
        self.name_issuer(&mut catalog);
        let catalog = StaticDocument::new(catalog);
        // Entry points: the catalog at its own path and at the well-known path (OSLC Core 3.0 Discovery), and the
        // Jazz root services document that IBM ELM clients and oslc-client start from.
        router = router
            .route(Layout::catalog_path(), handlers::document(catalog.clone(), shared.clone()))
            .route(WELL_KNOWN_CATALOG, handlers::document(catalog, shared.clone()))
            .route(
                "/rootservices",
                handlers::rootservices(
                    StaticDocument::new(rootservices(iri("/rootservices".into())?, &self.title, &layout.catalog()?)),
                    shared.clone(),
                ),
            );
        documents.extend(
            [Layout::catalog_path(), WELL_KNOWN_CATALOG, "/rootservices", JSONLD_CONTEXT_PATH].map(String::from),
        );
        // The stylesheet, script and icon of the pages for people.
        for (path, body, media_type) in [
            (html::STYLESHEET_PATH, html::STYLESHEET, "text/css; charset=utf-8"),
            (html::SCRIPT_PATH, html::SCRIPT, "text/javascript; charset=utf-8"),
            (html::ICON_PATH, html::ICON, "image/svg+xml"),
        ] {
            documents.push(path.to_owned());
            router = router.route(
                path,
                axum::routing::get(move || async move {
                    (
                        [
                            (http::header::CONTENT_TYPE, media_type),
                            (http::header::CACHE_CONTROL, "public, max-age=3600"),
                            (http::header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                        ],
                        body,
                    )
                }),
            );
        }
        // The JSON-LD context of every prefix and term this server uses, published for consumers that cache one.
        let context = axum::body::Bytes::from(shared.prefixes.jsonld_context());
        router = router.route(
            JSONLD_CONTEXT_PATH,
            axum::routing::get(move || {
                let context = context.clone();
                async move {
                    (
                        [
                            (http::header::CONTENT_TYPE, "application/ld+json"),
                            (http::header::CACHE_CONTROL, "public, max-age=3600"),
                        ],
                        context,
                    )
                }
            }),
        );
        for (path, document) in self.documents {
            if !path.starts_with('/') {
                return Err(BuildError::Path { path, reason: "a document path starts with /".into() });
            }
            router = router.route(&path, handlers::document(StaticDocument::new(document), shared.clone()));
            documents.push(path);
        }
        // One tower stack, not two `Router::layer` calls: axum clones a route's stack of layers below each level on
        // every request.
        let layer = KitLayer(
            tower::ServiceBuilder::new().option_layer(self.cors.map(OslcCorsLayer::new)).layer(CoreVersionLayer),
        );
        if self.route_layer {
            router = router.layer(layer.clone());
        }
        Ok(Built { router, layer, catalog: layout.catalog()?, service_providers: minted, documents })
    }
}

/// The layer the kit puts on its routes (unless [`ServerBuilder::without_route_layer`]): its CORS policy (see
/// [`ServerBuilder::with_cors`]) and `OSLC-Core-Version` handling ([`CoreVersionLayer`]), as one tower stack.
#[derive(Debug, Clone)]
pub struct KitLayer(KitStack);

type KitStack = tower::ServiceBuilder<
    tower::layer::util::Stack<
        CoreVersionLayer,
        tower::layer::util::Stack<
            tower::util::Either<OslcCorsLayer, tower::layer::util::Identity>,
            tower::layer::util::Identity,
        >,
    >,
>;

impl<S> tower::Layer<S> for KitLayer
where
    KitStack: tower::Layer<S>,
{
    type Service = <KitStack as tower::Layer<S>>::Service;

    fn layer(&self, inner: S) -> Self::Service {
        tower::Layer::layer(&self.0, inner)
    }
}

/// The default bound of the cache of serialized resources: 8 MiB.
pub const DEFAULT_REPRESENTATION_CACHE_BYTES: usize = 8 * 1024 * 1024;

/// Where the catalog is also served: OSLC Core 3.0 Discovery's well-known path.
pub const WELL_KNOWN_CATALOG: &str = "/.well-known/oslc/sp-catalog";

/// The Jazz root services document: `about` (the URL it is served at) names the catalog with the CM 1.0 term
/// `oslc_cm:cmServiceProviders`, which Jazz-style clients look up.
fn rootservices(about: NamedNode, title: &str, catalog: &NamedNode) -> Resource {
    let mut doc = Resource::new(about);
    doc.insert(crate::vocab::dcterms::title, &oxrdf::Literal::new_simple_literal(title));
    doc.insert(oxrdf::NamedNodeRef::new_unchecked("http://open-services.net/xmlns/cm/1.0/cmServiceProviders"), catalog);
    doc
}

fn check_segment(what: &'static str, segment: &str, seen: &[String]) -> std::result::Result<(), BuildError> {
    if segment.is_empty() || segment.contains('/') || segment.contains('{') || segment == "catalog" {
        return Err(BuildError::Segment { what, segment: segment.to_owned() });
    }
    if seen.iter().any(|s| s == segment) {
        return Err(BuildError::Duplicate { what, segment: segment.to_owned() });
    }
    Ok(())
}

/// Options shared by every route.
#[derive(Debug)]
struct Shared {
    representations: representations::Representations,
    prefixes: Prefixes,
    body_limit: usize,
    parse_limits: ParseLimits,
    query_limits: QueryLimits,
    paging: Paging,
    /// The public base URL.
    base: String,
    /// The CSP `frame-ancestors` sources of dialogs and previews.
    frame_ancestors: String,
    /// Links of the pages' navigation bar: (label, URL).
    page_links: Vec<(String, String)>,
}

/// Where the server kit publishes the JSON-LD context of its prefixes and terms
/// ([`crate::rdf::Prefixes::jsonld_context`]); every JSON-LD document it writes carries the part it uses inline.
pub const JSONLD_CONTEXT_PATH: &str = "/contexts/oslc.jsonld";

/// LDP's `constrainedBy` link relation, naming the shape a refused body broke.
const LDP_CONSTRAINED_BY: &str = "http://www.w3.org/ns/ldp#constrainedBy";

/// A discovery document computed once, with its ETag, and serialized once per syntax (on first request).
#[derive(Debug)]
struct StaticDocument {
    resource: Resource,
    etag: ETag,
    bodies: [std::sync::OnceLock<Option<axum::body::Bytes>>; crate::rdf::FORMATS.len()],
}

impl StaticDocument {
    fn new(resource: Resource) -> Arc<Self> {
        let etag = resource.etag();
        Arc::new(Self { resource, etag, bodies: Default::default() })
    }

    /// The document in `format` (one of [`crate::rdf::FORMATS`]), serialized the first time it is asked for.
    fn body(&self, format: crate::rdf::RdfFormat, prefixes: &Prefixes) -> Option<axum::body::Bytes> {
        let slot = crate::rdf::FORMATS.iter().position(|f| *f == format)?;
        self.bodies[slot]
            .get_or_init(|| {
                crate::rdf::serialize_triples(self.resource.triples(), format, prefixes).ok().map(Into::into)
            })
            .clone()
    }
}
