//! The trait an adapter implements to serve one type of resource, and the container its resources live in.
//!
//! ```
//! use oslc_core::{Container, InMemoryProvider, Resource, ResourceProvider};
//! use oslc_core::oxrdf::{Literal, NamedNode};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let bugs = Container::new(NamedNode::new("http://tool.example/serviceProviders/1/bugs")?);
//! let provider = InMemoryProvider::new();
//! let mut bug = Resource::new(bugs.iri().into_owned());
//! bug.insert(oslc_core::vocab::dcterms::title, &Literal::new_simple_literal("Crash on start"));
//! let created = provider.create(&bugs, bug).await?;
//! let id = created.subject().as_str().rsplit('/').next().unwrap_or_default().to_owned();
//! assert_eq!(created.subject(), bugs.member(&id).as_ref());
//! assert_eq!(provider.list(&bugs).await?.len(), 1);
//! # Ok(()) }
//! ```

use async_trait::async_trait;
use oxrdf::{NamedNode, NamedNodeRef};

use crate::query::{Listing, Query};
use crate::{ETag, Error, Resource, Result};

/// An LDP-style container of one type of resource: the collection IRI (which is the query base and creation factory
/// URI) and the IRIs of its members, `{collection}/{id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    iri: NamedNode,
}

impl Container {
    /// A container at `iri` (no trailing slash).
    #[must_use]
    pub fn new(iri: NamedNode) -> Self {
        Self { iri }
    }

    /// The collection IRI.
    #[must_use]
    pub fn iri(&self) -> NamedNodeRef<'_> {
        self.iri.as_ref()
    }

    /// The IRI of the member `id`, with `id` percent-encoded as one path segment.
    ///
    /// ```
    /// use oslc_core::Container;
    /// use oxrdf::NamedNode;
    ///
    /// let crs = Container::new(NamedNode::new("http://example.com/sp/1/crs")?);
    /// assert_eq!(crs.member("42").as_str(), "http://example.com/sp/1/crs/42");
    /// assert_eq!(crs.member("a b/c").as_str(), "http://example.com/sp/1/crs/a%20b%2Fc");
    /// assert_eq!(crs.id_of(crs.member("a b/c").as_ref()).as_deref(), Some("a b/c"));
    /// Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn member(&self, id: &str) -> NamedNode {
        NamedNode::new_unchecked(format!("{}/{}", self.iri.as_str(), encode_segment(id)))
    }

    /// The id of a member IRI, if the IRI is one of this container's members.
    #[must_use]
    pub fn id_of(&self, member: NamedNodeRef<'_>) -> Option<String> {
        let segment = member.as_str().strip_prefix(self.iri.as_str())?.strip_prefix('/')?;
        (!segment.is_empty() && !segment.contains('/')).then(|| decode_segment(segment))?
    }
}

/// What a member id keeps unencoded in its IRI segment: RFC 3986's unreserved characters.
const UNRESERVED: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode_segment(id: &str) -> String {
    percent_encoding::utf8_percent_encode(id, UNRESERVED).to_string()
}

/// The id a segment encodes; `None` when it does not decode to UTF-8.
fn decode_segment(segment: &str) -> Option<String> {
    percent_encoding::percent_decode_str(segment).decode_utf8().ok().map(std::borrow::Cow::into_owned)
}

/// The `If-Match` precondition of a write: the header's value, checked against the resource's current ETag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfMatch(String);

impl IfMatch {
    /// The precondition from an `If-Match` header value.
    #[must_use]
    pub fn new(header: impl Into<String>) -> Self {
        Self(header.into())
    }

    /// The precondition that holds for the ETag `etag` only.
    #[must_use]
    pub fn etag(etag: &ETag) -> Self {
        Self(etag.to_string())
    }

    /// Checks the precondition against `current`, the resource's ETag now.
    ///
    /// # Errors
    /// [`Error::PreconditionFailed`] if the resource has changed.
    pub fn check(&self, resource: NamedNodeRef<'_>, current: &ETag) -> Result<()> {
        if current.satisfies_if_match(&self.0) {
            Ok(())
        } else {
            Err(Error::PreconditionFailed {
                resource: resource.as_str().to_owned(),
                expected: self.0.clone(),
                current: current.to_string(),
            })
        }
    }
}

/// Serves one type of resource of a tool: what an adapter implements, and the server kit turns into OSLC endpoints
/// (query capability, creation factory, resource GET/PUT/DELETE).
///
/// Methods take the [`Container`] the resources are served from, so resource IRIs come from the server's public URL
/// and the provider only deals with ids. Errors are [`Error`]s, each of which maps to an HTTP status: return
/// [`Error::NotFound`] for an unknown id, [`Error::InvalidResource`] for a body the tool refuses,
/// [`Error::Unavailable`] when the tool cannot be reached.
///
/// The trait is object safe: the server holds providers as `Arc<dyn ResourceProvider>`.
#[async_trait]
pub trait ResourceProvider: Send + Sync + 'static {
    /// Every resource of the container (the query capability filters, orders and pages them).
    ///
    /// A provider that hands out the same [`Resource`] values (clones) while a resource does not change, with its
    /// ETag computed ([`Resource::etag`], once per state), gets faster query pages: the server keeps each member's
    /// serialized part by that ETag and copies it into the next pages instead of writing it again.
    async fn list(&self, container: &Container) -> Result<Vec<Resource>>;

    /// Every resource of the container in natural order, shared: pages of queries that neither filter, search
    /// nor order are cut from it by binary search instead of evaluating the collection
    /// ([`crate::query::page_of`]).
    ///
    /// The default sorts [`ResourceProvider::list`] on each call; a provider that keeps its resources returns a
    /// [`Listing`] it keeps until they change, so such a page costs the same over 100 members or 100,000.
    async fn listing(&self, container: &Container) -> Result<Listing> {
        Ok(Listing::new(self.list(container).await?))
    }

    /// Evaluates `oslc.where` (and `oslc.searchTerms`, if it can) itself, as a database would: return the members
    /// that satisfy it, or `None` to let the server evaluate the query over [`ResourceProvider::list`].
    ///
    /// The server still scores, orders, pages and projects what this returns. The default returns `None`.
    async fn query(&self, container: &Container, query: &Query) -> Result<Option<Vec<Resource>>> {
        let _ = (container, query);
        Ok(None)
    }

    /// The resource with this id.
    async fn get(&self, container: &Container, id: &str) -> Result<Resource>;

    /// Creates a resource from a client's representation and returns it as stored, at its new IRI.
    ///
    /// The representation's subject is the container IRI (the server renames the body's root subject to it);
    /// mint an id and rename it with [`Resource::with_subject`]`(container.member(id))`.
    async fn create(&self, container: &Container, resource: Resource) -> Result<Resource>;

    /// Replaces the resource `id` with `resource` (whose subject is already the member IRI) if `if_match` holds
    /// against its current state, and returns it as stored.
    ///
    /// Check the precondition as close to the write as the tool allows; [`IfMatch::check`] does the comparison.
    async fn replace(
        &self,
        container: &Container,
        id: &str,
        resource: Resource,
        if_match: &IfMatch,
    ) -> Result<Resource>;

    /// Deletes the resource `id`, if `if_match` (when given) holds.
    async fn delete(&self, container: &Container, id: &str, if_match: Option<&IfMatch>) -> Result<()>;
}
