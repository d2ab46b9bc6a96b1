//! OSLC Actions declared on a collection: the kit advertises each on the members it is available for (under both
//! Actions namespaces, see [`crate::actions`]), mints its route (`POST {member}/{name}`), and runs it.

use std::sync::Arc;

use async_trait::async_trait;
use oxrdf::NamedNodeRef;

use crate::actions::{Action, HttpRequest};
use crate::provider::Container;
use crate::{Resource, Result};

/// Runs one action on one resource.
///
/// ```
/// use oslc_core::server::ActionHandler;
/// use oslc_core::{Container, Resource, Result};
///
/// struct Close;
///
/// #[async_trait::async_trait]
/// impl ActionHandler for Close {
///     async fn run(&self, _container: &Container, _id: &str, current: Resource) -> Result<Resource> {
///         let mut closed = current;
///         closed.set(oslc_core::vocab::oslc_cm::closed, &oxrdf::Literal::from(true));
///         Ok(closed) // a real handler writes this to its tool first
///     }
/// }
/// ```
#[async_trait]
pub trait ActionHandler: Send + Sync + 'static {
    /// Runs the action on resource `id`, whose state is `current`; returns the resource after it.
    ///
    /// # Errors
    /// Any [`crate::Error`]: it is the answer's status and `oslc:Error` body.
    async fn run(&self, container: &Container, id: &str, current: Resource) -> Result<Resource>;
}

type Availability = Arc<dyn Fn(&Resource) -> bool + Send + Sync>;

/// What running an action sends.
#[derive(Clone)]
pub(super) enum Binding {
    /// `POST {member}/{name}`, run by a handler.
    Post(Arc<dyn ActionHandler>),
    /// `DELETE {member}`, run by the collection's own DELETE.
    Delete,
    /// A request made elsewhere (such as a creation factory), described for each member.
    Request(Describe),
}

/// Makes the `http:Request` of a [`CollectionAction::request`] for a member.
pub(super) type Describe = Arc<dyn Fn(NamedNodeRef<'_>) -> HttpRequest + Send + Sync>;

/// An action a collection's members offer.
///
/// ```
/// use std::sync::Arc;
/// use oslc_core::server::{Collection, CollectionAction};
/// # struct Close;
/// # #[async_trait::async_trait]
/// # impl oslc_core::server::ActionHandler for Close {
/// #     async fn run(&self, _: &oslc_core::Container, _: &str, r: oslc_core::Resource) -> oslc_core::Result<oslc_core::Resource> { Ok(r) }
/// # }
///
/// let collection = Collection::new("changeRequests", Arc::new(oslc_core::InMemoryProvider::new()))
///     .with_action(
///         CollectionAction::post("close", "Close", Arc::new(Close))
///             .available_when(|r| r.string(oslc_core::vocab::oslc_cm::status).as_deref() != Some("Closed")),
///     )
///     .with_action(CollectionAction::delete("Delete"));
/// ```
#[derive(Clone)]
pub struct CollectionAction {
    pub(super) name: String,
    pub(super) title: String,
    description: Option<String>,
    available: Option<Availability>,
    pub(super) binding: Binding,
}

impl std::fmt::Debug for CollectionAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CollectionAction").field("name", &self.name).field("title", &self.title).finish_non_exhaustive()
    }
}

impl CollectionAction {
    /// An action run by `POST {member}/{name}` with an empty body, answered with the resource after it.
    #[must_use]
    pub fn post(name: impl Into<String>, title: impl Into<String>, handler: Arc<dyn ActionHandler>) -> Self {
        Self {
            name: name.into(),
            title: title.into(),
            description: None,
            available: None,
            binding: Binding::Post(handler),
        }
    }

    /// The delete action: `DELETE {member}`, which the collection serves already.
    #[must_use]
    pub fn delete(title: impl Into<String>) -> Self {
        Self {
            name: "delete".into(),
            title: title.into(),
            description: None,
            available: None,
            binding: Binding::Delete,
        }
    }

    /// An action whose request `describe` makes for each member, run elsewhere than at the member (the kit mints
    /// no route for it): for example OSLC Automation's pattern, a POST of an `oslc_auto:AutomationRequest` to a
    /// creation factory with `oslc:finalStatusLocation oslc_auto:AutomationResult`.
    #[must_use]
    pub fn request(
        name: impl Into<String>,
        title: impl Into<String>,
        describe: impl Fn(NamedNodeRef<'_>) -> HttpRequest + Send + Sync + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            title: title.into(),
            description: None,
            available: None,
            binding: Binding::Request(Arc::new(describe)),
        }
    }

    /// A description.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Offers the action only on resources for which `available` holds (default: on every member); running it on
    /// another answers 409.
    #[must_use]
    pub fn available_when(mut self, available: impl Fn(&Resource) -> bool + Send + Sync + 'static) -> Self {
        self.available = Some(Arc::new(available));
        self
    }

    pub(super) fn is_available(&self, resource: &Resource) -> bool {
        self.available.as_ref().is_none_or(|f| f(resource))
    }

    /// The action as `member` offers it.
    pub(super) fn describe(&self, member: NamedNodeRef<'_>) -> Action {
        let iri = oxrdf::NamedNode::new_unchecked(format!("{}#{}", member.as_str(), self.name));
        let request = match &self.binding {
            Binding::Post(_) => {
                HttpRequest::new("POST", oxrdf::NamedNode::new_unchecked(format!("{}/{}", member.as_str(), self.name)))
            }
            Binding::Delete => HttpRequest::new("DELETE", member.into_owned()),
            Binding::Request(describe) => describe(member),
        };
        let mut action = Action::new(iri, &self.title).with_binding(request);
        action.description.clone_from(&self.description);
        action
    }
}

/// `resource` with the actions it offers written into its graph.
pub(super) fn advertise(actions: &[CollectionAction], resource: Resource) -> Resource {
    let offered: Vec<&CollectionAction> = actions.iter().filter(|a| a.is_available(&resource)).collect();
    if offered.is_empty() {
        return resource;
    }
    let (subject, mut graph) = resource.into_parts();
    for action in offered {
        action.describe(subject.as_ref()).write(subject.as_ref(), &mut graph);
    }
    Resource::from_graph(subject, graph)
}
