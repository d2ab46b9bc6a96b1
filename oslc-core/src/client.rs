//! An OSLC consumer (feature `client`): reads resources in a negotiated syntax, finds query capabilities and
//! creation factories from a service provider catalog by domain and resource type, runs queries to their last
//! page, creates, reads and updates with ETags, and runs OSLC Actions by their bindings. TLS is chosen inside it
//! (rustls with ring): callers install nothing.
//!
//! Credentials are given per URL prefix (a bearer token or HTTP Basic). Every failure is an [`Error`]; a failed
//! request is [`Error::Remote`], which says whether trying again can help.
//!
//! ```no_run
//! use oslc_core::client::{Client, Credential};
//! use oslc_core::vocab::oslc_cm;
//!
//! # async fn run() -> oslc_core::Result<()> {
//! let client = Client::new()?.with_credential("https://tracker.example/", Credential::bearer("t0k"));
//! let catalog = "https://tracker.example/serviceProviders/catalog";
//! let crs = client.query_capability(catalog, Some(oslc_cm::NS), oslc_cm::ChangeRequest).await?;
//! for member in client.query(crs.as_str(), Some("oslc_cm:closed=false"), None).await? {
//!     let fetched = client.get(member.as_str()).await?;
//!     for action in oslc_core::actions::Action::read_all(fetched.resource.graph(), member.as_ref()) {
//!         if action.name() == "close" {
//!             client.run_action(&action).await?;
//!         }
//!     }
//! }
//! # Ok(()) }
//! ```

use std::time::Duration;

use oxrdf::{Graph, NamedNode, NamedNodeRef, NamedOrBlankNode, TermRef};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, ETAG, IF_MATCH, LOCATION};

use crate::actions::Action;
use crate::rdf::{self, ParseLimits, RdfFormat};
use crate::vocab::{ldp, oslc, rdf as rdf_ns, rdfs};
use crate::{Error, Resource, Result};

/// Credentials for the URLs under a prefix.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credential {
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// HTTP Basic.
    Basic {
        /// The user name.
        user: String,
        /// The password.
        password: String,
    },
    /// OAuth 2.0 access tokens from the client credentials grant, renewed before they expire (feature `oidc`).
    #[cfg(feature = "oidc")]
    ClientCredentials(crate::oauth::ClientCredentials),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Self::Basic { user, .. } => write!(f, "Basic({user}, <redacted>)"),
            #[cfg(feature = "oidc")]
            Self::ClientCredentials(c) => write!(f, "{c:?}"),
        }
    }
}

impl Credential {
    /// A bearer token.
    #[must_use]
    pub fn bearer(token: impl Into<String>) -> Self {
        Self::Bearer(token.into())
    }

    /// HTTP Basic credentials.
    #[must_use]
    pub fn basic(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self::Basic { user: user.into(), password: password.into() }
    }
}

/// A resource read from a server, with the ETag it was served with.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The resource (its subject is the URL requested).
    pub resource: Resource,
    /// The `ETag` header, for a later `If-Match`.
    pub etag: Option<String>,
}

/// An OSLC client; cheap to clone (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    credentials: Vec<(String, Credential)>,
    limits: ParseLimits,
    max_pages: usize,
}

impl Client {
    /// A client with a 30 s timeout per request.
    ///
    /// # Errors
    /// [`Error::Backend`] if the TLS stack cannot be set up.
    pub fn new() -> Result<Self> {
        Ok(Self::with_http(http_client(Duration::from_secs(30), Duration::from_secs(10))?))
    }

    /// A client over an existing reqwest client (its TLS setup is the caller's).
    #[must_use]
    pub fn with_http(http: reqwest::Client) -> Self {
        Self {
            http,
            credentials: Vec::new(),
            limits: ParseLimits::default().with_max_triples(200_000),
            max_pages: 1000,
        }
    }

    /// Sends `credential` to every URL that starts with `prefix` (the longest matching prefix wins).
    #[must_use]
    pub fn with_credential(mut self, prefix: impl Into<String>, credential: Credential) -> Self {
        self.credentials.push((prefix.into(), credential));
        self.credentials.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        self
    }

    /// The budgets for what servers answer (default: [`ParseLimits::default`] with 200,000 triples).
    #[must_use]
    pub fn with_parse_limits(mut self, limits: ParseLimits) -> Self {
        self.limits = limits;
        self
    }

    /// A request with the credentials for `url`.
    pub fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let request = self.http.request(method, url);
        match self.credentials.iter().find(|(prefix, _)| url.starts_with(prefix.as_str())) {
            Some((_, Credential::Bearer(token))) => request.header(AUTHORIZATION, format!("Bearer {token}")),
            Some((_, Credential::Basic { user, password })) => request.basic_auth(user, Some(password)),
            // Added when the request is sent (the token may need fetching).
            #[cfg(feature = "oidc")]
            Some((_, Credential::ClientCredentials(_))) => request,
            None => request,
        }
    }

    /// Sends `request`, with an OAuth 2.0 token when `url`'s credential is one; a token the server refuses (401)
    /// is dropped and the request sent once more with a new one.
    async fn send(&self, url: &str, request: reqwest::RequestBuilder) -> Result<reqwest::Response> {
        #[cfg(feature = "oidc")]
        if let Some((_, Credential::ClientCredentials(tokens))) =
            self.credentials.iter().find(|(prefix, _)| url.starts_with(prefix.as_str()))
        {
            let retry = request.try_clone();
            let token = tokens.token().await?;
            let response = self.send_once(url, request.bearer_auth(token)).await;
            return match (response, retry) {
                (Err(Error::Remote { status: Some(401), .. }), Some(retry)) => {
                    tokens.forget().await;
                    let token = tokens.token().await?;
                    self.send_once(url, retry.bearer_auth(token)).await
                }
                (response, _) => response,
            };
        }
        self.send_once(url, request).await
    }

    async fn send_once(&self, url: &str, request: reqwest::RequestBuilder) -> Result<reqwest::Response> {
        let response = request.send().await.map_err(|e| Error::Remote {
            uri: url.to_owned(),
            status: None,
            message: e.to_string(),
            retryable: true,
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let code = status.as_u16();
        let retryable = code == 408 || code == 429 || status.is_server_error();
        // The server's oslc:Error message, when it sent one.
        let format = rdf::content_type_format(response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()));
        let body = read_capped(url, response, 64 * 1024).await.unwrap_or_default();
        let message = format
            .ok()
            .and_then(|f| rdf::parse_with_limits(&body, f, url, &ParseLimits::default()).ok())
            .and_then(|g| {
                let node = g.subject_for_predicate_object(rdf_ns::r#type, oslc::Error)?.into_owned();
                match g.object_for_subject_predicate(node.as_ref(), oslc::message)? {
                    TermRef::Literal(l) => Some(l.value().to_owned()),
                    _ => None,
                }
            })
            .unwrap_or_else(|| format!("HTTP {status}"));
        Err(Error::Remote { uri: url.to_owned(), status: Some(code), message, retryable })
    }

    async fn read_graph(&self, url: &str, response: reqwest::Response) -> Result<Graph> {
        let format = rdf::content_type_format(response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()))
            .unwrap_or(RdfFormat::Turtle);
        let body = read_capped(url, response, self.limits.max_bytes).await?;
        let (limits, url) = (self.limits, url.to_owned());
        tokio::task::spawn_blocking(move || rdf::parse_with_limits(&body, format, &url, &limits))
            .await
            .map_err(|e| Error::backend("the RDF parser task failed", e))?
    }

    /// The graph at `url`, asking for Turtle, RDF/XML or JSON-LD.
    ///
    /// # Errors
    /// [`Error::Remote`] for a failed request; [`Error::Syntax`] or [`Error::LimitExceeded`] for what it answered.
    pub async fn get_graph(&self, url: &str) -> Result<Graph> {
        let request = self
            .request(reqwest::Method::GET, url)
            .header(ACCEPT, "text/turtle, application/rdf+xml;q=0.9, application/ld+json;q=0.8")
            .header("OSLC-Core-Version", "3.0");
        let response = self.send(url, request).await?;
        self.read_graph(url, response).await
    }

    /// The resource at `url`, with its ETag.
    ///
    /// # Errors
    /// As [`Client::get_graph`]; [`Error::BadRequest`] if `url` is not an IRI.
    pub async fn get(&self, url: &str) -> Result<Fetched> {
        let subject = NamedNode::new(url).map_err(|e| Error::bad_request(format!("{url} is not an IRI: {e}")))?;
        let request = self
            .request(reqwest::Method::GET, url)
            .header(ACCEPT, "text/turtle, application/rdf+xml;q=0.9, application/ld+json;q=0.8")
            .header("OSLC-Core-Version", "3.0");
        let response = self.send(url, request).await?;
        let etag = response.headers().get(ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let graph = self.read_graph(url, response).await?;
        Ok(Fetched { resource: Resource::from_graph(subject, graph), etag })
    }

    /// Finds, through the catalog at `catalog` and the service providers it lists, the query capability for
    /// `resource_type` (in a service of `domain`, when given); returns its query base.
    ///
    /// # Errors
    /// As [`Client::get_graph`]; [`Error::NotFound`] if no provider offers one.
    pub async fn query_capability(
        &self,
        catalog: &str,
        domain: Option<&str>,
        resource_type: NamedNodeRef<'_>,
    ) -> Result<NamedNode> {
        self.find_capability(catalog, domain, resource_type, oslc::queryCapability, oslc::queryBase).await
    }

    /// Finds the creation factory for `resource_type` as [`Client::query_capability`] does; returns its URL.
    ///
    /// # Errors
    /// As [`Client::query_capability`].
    pub async fn creation_factory(
        &self,
        catalog: &str,
        domain: Option<&str>,
        resource_type: NamedNodeRef<'_>,
    ) -> Result<NamedNode> {
        self.find_capability(catalog, domain, resource_type, oslc::creationFactory, oslc::creation).await
    }

    async fn find_capability(
        &self,
        catalog: &str,
        domain: Option<&str>,
        resource_type: NamedNodeRef<'_>,
        capability: NamedNodeRef<'_>,
        url_property: NamedNodeRef<'_>,
    ) -> Result<NamedNode> {
        let catalog_graph = self.get_graph(catalog).await?;
        // Providers described in the catalog itself (as Lyo and this crate do) are searched first; the others are
        // read one by one.
        if let Some(found) = find_in(&catalog_graph, domain, resource_type, capability, url_property) {
            return Ok(found);
        }
        let providers: Vec<NamedNode> = catalog_graph
            .triples_for_predicate(oslc::serviceProvider)
            .filter_map(|t| match t.object {
                TermRef::NamedNode(n) => Some(n.into_owned()),
                _ => None,
            })
            .collect();
        for provider in providers {
            let graph = self.get_graph(provider.as_str()).await?;
            if let Some(found) = find_in(&graph, domain, resource_type, capability, url_property) {
                return Ok(found);
            }
        }
        Err(Error::not_found(format!("a {} for {resource_type} in {catalog}", capability.as_str())))
    }

    /// The members an OSLC query at `query_base` finds, following `oslc:nextPage` to the last page (at most 1,000
    /// pages).
    ///
    /// # Errors
    /// As [`Client::get_graph`]; [`Error::LimitExceeded`] past 1,000 pages.
    pub async fn query(
        &self,
        query_base: &str,
        where_clause: Option<&str>,
        page_size: Option<usize>,
    ) -> Result<Vec<NamedNode>> {
        let size = page_size.map(|n| n.to_string());
        let mut params = Vec::new();
        if let Some(clause) = where_clause {
            params.push(("oslc.where", clause));
        }
        if let Some(size) = &size {
            params.push(("oslc.pageSize", size.as_str()));
        }
        self.query_with(query_base, &params).await
    }

    /// As [`Client::query`], with any OSLC query parameters (`oslc.where`, `oslc.prefix`, `oslc.searchTerms`,
    /// `oslc.pageSize`, …); `oslc.paging=true` is always asked for.
    ///
    /// # Errors
    /// As [`Client::query`].
    pub async fn query_with(&self, query_base: &str, query: &[(&str, &str)]) -> Result<Vec<NamedNode>> {
        let params = {
            let mut params = form_urlencoded::Serializer::new(String::new());
            params.append_pair("oslc.paging", "true");
            for (name, value) in query.iter().filter(|(name, _)| *name != "oslc.paging") {
                params.append_pair(name, value);
            }
            params.finish()
        };
        let base = NamedNode::new(query_base).map_err(|e| Error::bad_request(format!("{query_base}: {e}")))?;
        let mut next = Some(format!("{query_base}?{params}"));
        let mut members = Vec::new();
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > self.max_pages {
                return Err(Error::limit(format!("pages of the query at {query_base}"), self.max_pages));
            }
            let graph = self.get_graph(&url).await?;
            for member in graph
                .objects_for_subject_predicate(base.as_ref(), rdfs::member)
                .chain(graph.objects_for_subject_predicate(base.as_ref(), ldp::contains))
            {
                if let TermRef::NamedNode(n) = member
                    && !members.iter().any(|m: &NamedNode| m.as_ref() == n)
                {
                    members.push(n.into_owned());
                }
            }
            next = graph.triples_for_predicate(oslc::nextPage).find_map(|t| match t.object {
                TermRef::NamedNode(n) => Some(n.as_str().to_owned()),
                _ => None,
            });
        }
        Ok(members)
    }

    /// POSTs `body` (Turtle) to the creation factory at `factory`; returns the new resource's URL.
    ///
    /// # Errors
    /// As [`Client::get_graph`]; [`Error::Remote`] if the answer has no `Location`.
    pub async fn create(&self, factory: &str, body: String) -> Result<String> {
        let request = self
            .request(reqwest::Method::POST, factory)
            .header(CONTENT_TYPE, "text/turtle")
            .header(ACCEPT, "text/turtle")
            .header("OSLC-Core-Version", "3.0")
            .body(body);
        let response = self.send(factory, request).await?;
        response.headers().get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned).ok_or_else(|| Error::Remote {
            uri: factory.to_owned(),
            status: Some(response.status().as_u16()),
            message: "the creation answer has no Location".to_owned(),
            retryable: false,
        })
    }

    /// PUTs `resource` (as Turtle) to its subject, if it still has the ETag `etag`.
    ///
    /// # Errors
    /// As [`Client::get_graph`]; a changed resource is [`Error::Remote`] with status 412.
    pub async fn put(&self, resource: &Resource, etag: &str) -> Result<Option<String>> {
        let url = resource.subject().as_str();
        let body = rdf::serialize(resource.graph(), RdfFormat::Turtle, &crate::vocab::standard_prefixes())?;
        let request = self
            .request(reqwest::Method::PUT, url)
            .header(CONTENT_TYPE, "text/turtle")
            .header(IF_MATCH, etag)
            .header("OSLC-Core-Version", "3.0")
            .body(body);
        let response = self.send(url, request).await?;
        Ok(response.headers().get(ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned))
    }

    /// Runs `action` by its first binding; returns the `Location` of the answer, if any (where
    /// `oslc:finalStatusLocation` points).
    ///
    /// # Errors
    /// As [`Client::get_graph`]; [`Error::BadRequest`] for an action without a binding or with a method HTTP does
    /// not know.
    pub async fn run_action(&self, action: &Action) -> Result<Option<String>> {
        let binding =
            action.binding().ok_or_else(|| Error::bad_request(format!("action {} has no binding", action.iri)))?;
        let url = binding.uri.as_str();
        let method = reqwest::Method::from_bytes(binding.method.as_bytes())
            .map_err(|e| Error::bad_request(format!("action {}: method {}: {e}", action.iri, binding.method)))?;
        let mut request = self.request(method, url).header(ACCEPT, "text/turtle").header("OSLC-Core-Version", "3.0");
        for (field, value) in &binding.headers {
            request = request.header(field.as_str(), value.as_str());
        }
        let body = match (&binding.body, &binding.body_resource) {
            (Some(body), _) => Some(body.clone().into_bytes()),
            (None, Some(resource)) => Some(crate::rdf::serialize(
                resource.graph(),
                crate::rdf::RdfFormat::Turtle,
                &crate::vocab::standard_prefixes(),
            )?),
            (None, None) => None,
        };
        if let Some(body) = body {
            if !binding.headers.iter().any(|(f, _)| f.eq_ignore_ascii_case("content-type")) {
                request = request.header(CONTENT_TYPE, "text/turtle");
            }
            request = request.body(body);
        }
        let response = self.send(url, request).await?;
        Ok(response.headers().get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned))
    }
}

/// A reqwest client over rustls with ring (the process's provider, installed here if none is), with a timeout per
/// request and one per connection.
pub(crate) fn http_client(timeout: Duration, connect: Duration) -> Result<reqwest::Client> {
    // Idempotent: the process's rustls provider, whoever installs it first.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(connect)
        .build()
        .map_err(|e| Error::backend("the HTTP client could not be built", e))
}

/// The body of `response`, refused past `max` bytes (announced or received) without reading the rest.
async fn read_capped(url: &str, mut response: reqwest::Response, max: usize) -> Result<Vec<u8>> {
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Err(Error::limit(format!("bytes in the answer from {url}"), max));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| Error::Remote {
        uri: url.to_owned(),
        status: None,
        message: e.to_string(),
        retryable: true,
    })? {
        if body.len() + chunk.len() > max {
            return Err(Error::limit(format!("bytes in the answer from {url}"), max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A capability of `resource_type` (and `domain`) described in `graph`: the value of `url_property` on it.
fn find_in(
    graph: &Graph,
    domain: Option<&str>,
    resource_type: NamedNodeRef<'_>,
    capability: NamedNodeRef<'_>,
    url_property: NamedNodeRef<'_>,
) -> Option<NamedNode> {
    let node = |t: TermRef<'_>| -> Option<NamedOrBlankNode> {
        match t {
            TermRef::NamedNode(n) => Some(n.into_owned().into()),
            TermRef::BlankNode(b) => Some(b.into_owned().into()),
            TermRef::Literal(_) => None,
        }
    };
    for service in graph.triples_for_predicate(capability).map(|t| t.subject.into_owned()).collect::<Vec<_>>() {
        if let Some(domain) = domain {
            let in_domain = graph
                .objects_for_subject_predicate(service.as_ref(), oslc::domain)
                .any(|d| matches!(d, TermRef::NamedNode(n) if n.as_str() == domain));
            if !in_domain {
                continue;
            }
        }
        for cap in graph.objects_for_subject_predicate(service.as_ref(), capability).filter_map(node) {
            let typed = graph
                .objects_for_subject_predicate(cap.as_ref(), oslc::resourceType)
                .any(|t| t == TermRef::NamedNode(resource_type));
            if typed
                && let Some(TermRef::NamedNode(url)) = graph.object_for_subject_predicate(cap.as_ref(), url_property)
            {
                return Some(url.into_owned());
            }
        }
    }
    None
}
