//! What [`ServerBuilder::build`](super::ServerBuilder::build) makes: the router and the IRIs it minted, or the
//! configuration mistake that stopped it.

use axum::Router;
use oxrdf::NamedNode;

use crate::provider::Container;

/// A mistake in a server's configuration, found when it is built: a programming or deployment error, never a
/// client's (so it is no HTTP status).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The public base URL is not an absolute IRI.
    #[error("invalid public base URL {url:?}: {reason}")]
    BaseUrl {
        /// The URL given.
        url: String,
        /// Why it is not one.
        reason: String,
    },
    /// A service provider id, collection segment or action name is not one path segment, or is reserved.
    #[error("invalid {what} {segment:?}: must be one non-empty path segment other than \"catalog\"")]
    Segment {
        /// Which kind of name.
        what: &'static str,
        /// The name given.
        segment: String,
    },
    /// The same id, segment or action name was given twice where names must differ.
    #[error("{what} {segment:?} given twice")]
    Duplicate {
        /// Which kind of name.
        what: &'static str,
        /// The name given twice.
        segment: String,
    },
    /// An origin given to [`super::ServerBuilder::with_frame_ancestor`] is not `scheme://host[:port]` or `*`.
    #[error("invalid frame ancestor {origin:?}: give an origin such as https://tool.example.com, or *")]
    Origin {
        /// The origin given.
        origin: String,
    },
    /// A path (of a document, or one made from the names given) does not make an IRI under the base URL.
    #[error("invalid path {path:?}: {reason}")]
    Path {
        /// The path.
        path: String,
        /// Why.
        reason: String,
    },
}

impl From<BuildError> for crate::Error {
    fn from(error: BuildError) -> Self {
        crate::Error::Backend { message: format!("server configuration: {error}"), source: Some(Box::new(error)) }
    }
}

/// A built server: its [`Router`] (merge it, or convert it with `.into()`) and every IRI it minted, so an
/// adapter never retypes the URL layout.
///
/// ```
/// use std::sync::Arc;
/// use oslc_core::server::{Collection, Server, ServiceProviderConfig};
/// use oslc_core::InMemoryProvider;
///
/// let built = Server::builder("http://localhost:8080")?
///     .with_service_provider(ServiceProviderConfig::new("1", "Toy project")
///         .with_collection(Collection::new("changeRequests", Arc::new(InMemoryProvider::new()))))
///     .build::<()>()?;
/// let requests = built.collection("1", "changeRequests").expect("declared above");
/// assert_eq!(requests.container.iri().as_str(), "http://localhost:8080/serviceProviders/1/changeRequests");
/// assert_eq!(requests.shape.as_str(), "http://localhost:8080/resourceShapes/1/changeRequests");
/// assert_eq!(built.catalog.as_str(), "http://localhost:8080/serviceProviders/catalog");
/// let router: axum::Router = built.into();
/// # let _ = router;
/// Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct Built<S = ()> {
    /// Every route of the kit, with no state applied (and with [`Built::layer`] on them, unless the builder was
    /// told [`without_route_layer`](super::ServerBuilder::without_route_layer)).
    pub router: Router<S>,
    /// The kit's own layer (CORS, `OSLC-Core-Version`), for an application that applies it itself.
    pub layer: super::KitLayer,
    /// The service provider catalog (also served at the well-known path).
    pub catalog: NamedNode,
    /// The service providers, in the order they were declared.
    pub service_providers: Vec<BuiltProvider>,
    /// The router paths of the documents that never change (the catalog, service providers, shapes, dialog
    /// descriptors, added documents, the root services, the JSON-LD context, the pages' stylesheet and script):
    /// what a [`super::DocumentCache`] may answer.
    pub documents: Vec<String>,
}

/// A service provider a [`Built`] server serves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BuiltProvider {
    /// Its id (the path segment).
    pub id: String,
    /// Its IRI.
    pub iri: NamedNode,
    /// Its collections, in the order they were declared.
    pub collections: Vec<BuiltCollection>,
}

/// A collection a [`Built`] server serves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BuiltCollection {
    /// Its path segment.
    pub segment: String,
    /// Its container (query capability and creation factory); members are `<container>/<id>`.
    pub container: Container,
    /// Its resource shape.
    pub shape: NamedNode,
    /// The names of its actions (routed at `<member>/<name>` when bound to POST).
    pub actions: Vec<String>,
}

impl<S> Built<S> {
    /// The service provider `id`.
    #[must_use]
    pub fn provider(&self, id: &str) -> Option<&BuiltProvider> {
        self.service_providers.iter().find(|p| p.id == id)
    }

    /// The collection `segment` of service provider `provider`.
    #[must_use]
    pub fn collection(&self, provider: &str, segment: &str) -> Option<&BuiltCollection> {
        self.provider(provider)?.collections.iter().find(|c| c.segment == segment)
    }
}

impl<S> From<Built<S>> for Router<S> {
    fn from(built: Built<S>) -> Self {
        built.router
    }
}

/// The URL layout of the kit under a base URL: the IRIs [`ServerBuilder::build`](super::ServerBuilder::build)
/// mints, known before building, for providers that must name their resources when they are made (their events,
/// their links).
///
/// ```
/// let layout = oslc_core::server::Layout::new("https://tool.example/oslc/")?;
/// assert_eq!(layout.container("1", "bugs")?.member("7").as_str(), "https://tool.example/oslc/serviceProviders/1/bugs/7");
/// assert_eq!(layout.service_provider("1")?.as_str(), "https://tool.example/oslc/serviceProviders/1");
/// Ok::<_, oslc_core::server::BuildError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub(super) base: String,
}

impl Layout {
    /// The layout under `public_base_url` (a trailing `/` is ignored).
    ///
    /// # Errors
    /// [`BuildError::BaseUrl`] if the URL is not an absolute IRI.
    pub fn new(public_base_url: &str) -> Result<Self, BuildError> {
        let base = public_base_url.trim_end_matches('/').to_owned();
        NamedNode::new(&base)
            .map_err(|e| BuildError::BaseUrl { url: public_base_url.to_owned(), reason: e.to_string() })?;
        Ok(Self { base })
    }

    /// The base URL, without a trailing `/`.
    #[must_use]
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The IRI of `path` (which starts with `/`) under the base.
    ///
    /// # Errors
    /// [`BuildError::Path`] when it makes no IRI.
    pub fn iri(&self, path: &str) -> Result<NamedNode, BuildError> {
        NamedNode::new(format!("{}{path}", self.base))
            .map_err(|e| BuildError::Path { path: path.to_owned(), reason: e.to_string() })
    }

    /// The catalog's path.
    #[must_use]
    pub fn catalog_path() -> &'static str {
        "/serviceProviders/catalog"
    }

    /// The path of service provider `id`.
    #[must_use]
    pub fn service_provider_path(id: &str) -> String {
        format!("/serviceProviders/{id}")
    }

    /// The path of collection `segment` of service provider `id`.
    #[must_use]
    pub fn container_path(id: &str, segment: &str) -> String {
        format!("/serviceProviders/{id}/{segment}")
    }

    /// The path of the shape of collection `segment` of service provider `id`.
    #[must_use]
    pub fn shape_path(id: &str, segment: &str) -> String {
        format!("/resourceShapes/{id}/{segment}")
    }

    /// The catalog.
    ///
    /// # Errors
    /// [`BuildError::Path`] when it makes no IRI.
    pub fn catalog(&self) -> Result<NamedNode, BuildError> {
        self.iri(Self::catalog_path())
    }

    /// Service provider `id`.
    ///
    /// # Errors
    /// [`BuildError::Path`] when it makes no IRI.
    pub fn service_provider(&self, id: &str) -> Result<NamedNode, BuildError> {
        self.iri(&Self::service_provider_path(id))
    }

    /// The container of collection `segment` of service provider `id`.
    ///
    /// # Errors
    /// [`BuildError::Path`] when it makes no IRI.
    pub fn container(&self, id: &str, segment: &str) -> Result<Container, BuildError> {
        Ok(Container::new(self.iri(&Self::container_path(id, segment))?))
    }

    /// The shape of collection `segment` of service provider `id`.
    ///
    /// # Errors
    /// [`BuildError::Path`] when it makes no IRI.
    pub fn shape(&self, id: &str, segment: &str) -> Result<NamedNode, BuildError> {
        self.iri(&Self::shape_path(id, segment))
    }
}
