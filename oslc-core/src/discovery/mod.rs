//! OSLC discovery documents (OSLC Core 3.0 §5–6): the service provider catalog, service providers, their services
//! with creation factories, query capabilities and dialogs, prefix definitions, and resource shapes (their own
//! module, re-exported here).
//!
//! Each type is a value built with `new` (the properties `core-shapes.ttl` makes mandatory) and consuming `with_*`
//! setters (the optional ones), and writes itself as RDF through [`ToGraph`]. The server kit builds these for you from
//! its configuration; build them by hand to serve discovery some other way.
//!
//! ```
//! use oslc_core::discovery::{QueryCapability, Service, ServiceProvider, CreationFactory};
//! use oslc_core::vocab::oslc_cm;
//! use oxrdf::NamedNode;
//!
//! let crs = NamedNode::new("http://example.com/sp/1/crs")?;
//! let provider = ServiceProvider::new(NamedNode::new("http://example.com/sp/1")?, "Project 1").with_service(
//!     Service::new(NamedNode::new(oslc_cm::NS)?)
//!         .with_creation_factory(CreationFactory::new("New change request", crs.clone())
//!             .with_resource_type(oslc_cm::ChangeRequest.into_owned()))
//!         .with_query_capability(QueryCapability::new("Change requests", crs)),
//! );
//! let resource = provider.to_resource();
//! assert_eq!(resource.graph().len(), 14);
//! Ok::<_, Box<dyn std::error::Error>>(())
//! ```

use oxrdf::{BlankNode, Graph, Literal, NamedNode, NamedNodeRef, NamedOrBlankNodeRef, TermRef, TripleRef};

use crate::Resource;
use crate::resource::ToGraph;
use crate::vocab::{dcterms, oslc, rdf};

mod shape;
pub(crate) use shape::is_literal_type;
pub use shape::{Occurs, Property, Representation, ResourceShape};

fn add<'a>(graph: &mut Graph, s: NamedOrBlankNodeRef<'_>, p: NamedNodeRef<'_>, o: impl Into<TermRef<'a>>) {
    graph.insert(TripleRef::new(s, p, o.into()));
}

fn add_text(graph: &mut Graph, s: NamedOrBlankNodeRef<'_>, p: NamedNodeRef<'_>, text: &str) {
    add(graph, s, p, &Literal::new_simple_literal(text));
}

fn add_opt_text(graph: &mut Graph, s: NamedOrBlankNodeRef<'_>, p: NamedNodeRef<'_>, text: Option<&String>) {
    if let Some(text) = text {
        add_text(graph, s, p, text);
    }
}

/// Titles and descriptions: `rdf:XMLLiteral`, as the OSLC Core shapes give them.
fn add_rich(graph: &mut Graph, s: NamedOrBlankNodeRef<'_>, p: NamedNodeRef<'_>, text: &str) {
    add(graph, s, p, &crate::rdf::xml_literal(text));
}

fn add_opt_rich(graph: &mut Graph, s: NamedOrBlankNodeRef<'_>, p: NamedNodeRef<'_>, text: Option<&String>) {
    if let Some(text) = text {
        add_rich(graph, s, p, text);
    }
}

/// Writes `value` as a new blank node linked from `s` by `p`.
fn add_nested(graph: &mut Graph, s: NamedOrBlankNodeRef<'_>, p: NamedNodeRef<'_>, value: &impl ToGraph) {
    let node = BlankNode::default();
    add(graph, s, p, &node);
    value.add_to_graph(node.as_ref().into(), graph);
}

/// The tool that publishes a catalog or service provider (`oslc:Publisher`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publisher {
    title: String,
    identifier: String,
    label: Option<String>,
    icon: Option<NamedNode>,
}

impl Publisher {
    /// A publisher with its title and identifier (both Exactly-one).
    #[must_use]
    pub fn new(title: impl Into<String>, identifier: impl Into<String>) -> Self {
        Self { title: title.into(), identifier: identifier.into(), label: None, icon: None }
    }

    /// A short label for the publisher.
    #[must_use]
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// An icon for the publisher.
    #[must_use]
    pub fn with_icon(mut self, icon: NamedNode) -> Self {
        self.icon = Some(icon);
        self
    }
}

impl ToGraph for Publisher {
    fn add_to_graph(&self, s: NamedOrBlankNodeRef<'_>, graph: &mut Graph) {
        add(graph, s, rdf::r#type, oslc::Publisher);
        add_rich(graph, s, dcterms::title, &self.title);
        add_text(graph, s, dcterms::identifier, &self.identifier);
        add_opt_text(graph, s, oslc::label, self.label.as_ref());
        if let Some(icon) = &self.icon {
            add(graph, s, oslc::icon, icon);
        }
    }
}

/// A prefix the provider uses in queries and documents (`oslc:PrefixDefinition`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixDefinition {
    prefix: String,
    base: NamedNode,
}

impl PrefixDefinition {
    /// `prefix` bound to the namespace `base` (both Exactly-one).
    #[must_use]
    pub fn new(prefix: impl Into<String>, base: NamedNode) -> Self {
        Self { prefix: prefix.into(), base }
    }

    /// The prefix.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The namespace.
    #[must_use]
    pub fn base(&self) -> NamedNodeRef<'_> {
        self.base.as_ref()
    }
}

impl ToGraph for PrefixDefinition {
    fn add_to_graph(&self, s: NamedOrBlankNodeRef<'_>, graph: &mut Graph) {
        add(graph, s, rdf::r#type, oslc::PrefixDefinition);
        add_text(graph, s, oslc::prefix, &self.prefix);
        add(graph, s, oslc::prefixBase, &self.base);
    }
}

/// The properties shared by creation factories, query capabilities and dialogs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Capability {
    label: Option<String>,
    resource_types: Vec<NamedNode>,
    resource_shapes: Vec<NamedNode>,
    usages: Vec<NamedNode>,
}

impl Capability {
    fn add_to_graph(&self, s: NamedOrBlankNodeRef<'_>, graph: &mut Graph) {
        add_opt_text(graph, s, oslc::label, self.label.as_ref());
        for t in &self.resource_types {
            add(graph, s, oslc::resourceType, t);
        }
        for shape in &self.resource_shapes {
            add(graph, s, oslc::resourceShape, shape);
        }
        for usage in &self.usages {
            add(graph, s, oslc::usage, usage);
        }
    }
}

macro_rules! capability_setters {
    ($ty:ty) => {
        impl $ty {
            /// A short label.
            #[must_use]
            pub fn with_label(mut self, label: impl Into<String>) -> Self {
                self.capability.label = Some(label.into());
                self
            }

            /// A type of the resources it deals with (`oslc:resourceType`); may be given several times.
            #[must_use]
            pub fn with_resource_type(mut self, resource_type: NamedNode) -> Self {
                self.capability.resource_types.push(resource_type);
                self
            }

            /// The shape of the resources it deals with (`oslc:resourceShape`).
            #[must_use]
            pub fn with_resource_shape(mut self, shape: NamedNode) -> Self {
                self.capability.resource_shapes.push(shape);
                self
            }

            /// A usage hint (`oslc:usage`), such as `oslc:default`.
            #[must_use]
            pub fn with_usage(mut self, usage: NamedNode) -> Self {
                self.capability.usages.push(usage);
                self
            }

            /// The resource types it deals with.
            #[must_use]
            pub fn resource_types(&self) -> &[NamedNode] {
                &self.capability.resource_types
            }
        }
    };
}

/// Where clients POST to create resources (`oslc:CreationFactory`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreationFactory {
    title: String,
    creation: NamedNode,
    capability: Capability,
}

impl CreationFactory {
    /// A factory with its title and creation URI (both Exactly-one).
    #[must_use]
    pub fn new(title: impl Into<String>, creation: NamedNode) -> Self {
        Self { title: title.into(), creation, capability: Capability::default() }
    }

    /// The URI clients POST to.
    #[must_use]
    pub fn creation(&self) -> NamedNodeRef<'_> {
        self.creation.as_ref()
    }
}
capability_setters!(CreationFactory);

impl ToGraph for CreationFactory {
    fn add_to_graph(&self, s: NamedOrBlankNodeRef<'_>, graph: &mut Graph) {
        add(graph, s, rdf::r#type, oslc::CreationFactory);
        add_rich(graph, s, dcterms::title, &self.title);
        add(graph, s, oslc::creation, &self.creation);
        self.capability.add_to_graph(s, graph);
    }
}

/// Where clients GET (and query) resources (`oslc:QueryCapability`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryCapability {
    title: String,
    query_base: NamedNode,
    capability: Capability,
}

impl QueryCapability {
    /// A query capability with its title and query base (both Exactly-one).
    #[must_use]
    pub fn new(title: impl Into<String>, query_base: NamedNode) -> Self {
        Self { title: title.into(), query_base, capability: Capability::default() }
    }

    /// The URI clients query.
    #[must_use]
    pub fn query_base(&self) -> NamedNodeRef<'_> {
        self.query_base.as_ref()
    }
}
capability_setters!(QueryCapability);

impl ToGraph for QueryCapability {
    fn add_to_graph(&self, s: NamedOrBlankNodeRef<'_>, graph: &mut Graph) {
        add(graph, s, rdf::r#type, oslc::QueryCapability);
        add_rich(graph, s, dcterms::title, &self.title);
        add(graph, s, oslc::queryBase, &self.query_base);
        self.capability.add_to_graph(s, graph);
    }
}

/// A delegated UI for selecting or creating resources (`oslc:Dialog`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    title: String,
    dialog: NamedNode,
    hint_width: Option<String>,
    hint_height: Option<String>,
    capability: Capability,
}

impl Dialog {
    /// A dialog with its title and URI (both Exactly-one).
    #[must_use]
    pub fn new(title: impl Into<String>, dialog: NamedNode) -> Self {
        Self { title: title.into(), dialog, hint_width: None, hint_height: None, capability: Capability::default() }
    }

    /// Size hints in CSS units, such as `"400px"`.
    #[must_use]
    pub fn with_hints(mut self, width: impl Into<String>, height: impl Into<String>) -> Self {
        self.hint_width = Some(width.into());
        self.hint_height = Some(height.into());
        self
    }
}
capability_setters!(Dialog);

impl ToGraph for Dialog {
    fn add_to_graph(&self, s: NamedOrBlankNodeRef<'_>, graph: &mut Graph) {
        add(graph, s, rdf::r#type, oslc::Dialog);
        add_rich(graph, s, dcterms::title, &self.title);
        add(graph, s, oslc::dialog, &self.dialog);
        add_opt_text(graph, s, oslc::hintWidth, self.hint_width.as_ref());
        add_opt_text(graph, s, oslc::hintHeight, self.hint_height.as_ref());
        self.capability.add_to_graph(s, graph);
    }
}

/// The capabilities a provider offers for one domain (`oslc:Service`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    domain: NamedNode,
    creation_factories: Vec<CreationFactory>,
    query_capabilities: Vec<QueryCapability>,
    selection_dialogs: Vec<Dialog>,
    creation_dialogs: Vec<Dialog>,
}

impl Service {
    /// A service for the domain whose namespace is `domain` (Exactly-one), such as `oslc_cm::NS`.
    #[must_use]
    pub fn new(domain: NamedNode) -> Self {
        Self {
            domain,
            creation_factories: Vec::new(),
            query_capabilities: Vec::new(),
            selection_dialogs: Vec::new(),
            creation_dialogs: Vec::new(),
        }
    }

    /// Adds a creation factory.
    #[must_use]
    pub fn with_creation_factory(mut self, factory: CreationFactory) -> Self {
        self.creation_factories.push(factory);
        self
    }

    /// Adds a query capability.
    #[must_use]
    pub fn with_query_capability(mut self, capability: QueryCapability) -> Self {
        self.query_capabilities.push(capability);
        self
    }

    /// Adds a selection dialog.
    #[must_use]
    pub fn with_selection_dialog(mut self, dialog: Dialog) -> Self {
        self.selection_dialogs.push(dialog);
        self
    }

    /// Adds a creation dialog.
    #[must_use]
    pub fn with_creation_dialog(mut self, dialog: Dialog) -> Self {
        self.creation_dialogs.push(dialog);
        self
    }

    /// The domain namespace.
    #[must_use]
    pub fn domain(&self) -> NamedNodeRef<'_> {
        self.domain.as_ref()
    }

    /// The creation factories.
    #[must_use]
    pub fn creation_factories(&self) -> &[CreationFactory] {
        &self.creation_factories
    }

    /// The query capabilities.
    #[must_use]
    pub fn query_capabilities(&self) -> &[QueryCapability] {
        &self.query_capabilities
    }
}

impl ToGraph for Service {
    fn add_to_graph(&self, s: NamedOrBlankNodeRef<'_>, graph: &mut Graph) {
        add(graph, s, rdf::r#type, oslc::Service);
        add(graph, s, oslc::domain, &self.domain);
        for f in &self.creation_factories {
            add_nested(graph, s, oslc::creationFactory, f);
        }
        for q in &self.query_capabilities {
            add_nested(graph, s, oslc::queryCapability, q);
        }
        for d in &self.selection_dialogs {
            add_nested(graph, s, oslc::selectionDialog, d);
        }
        for d in &self.creation_dialogs {
            add_nested(graph, s, oslc::creationDialog, d);
        }
    }
}

/// A container of services, usually one per project or tool instance (`oslc:ServiceProvider`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceProvider {
    about: NamedNode,
    title: String,
    description: Option<String>,
    publisher: Option<Publisher>,
    details: Option<NamedNode>,
    services: Vec<Service>,
    prefix_definitions: Vec<PrefixDefinition>,
}

impl ServiceProvider {
    /// A service provider at `about` with a title.
    ///
    /// `core-shapes.ttl` requires at least one service: add it with [`ServiceProvider::with_service`].
    #[must_use]
    pub fn new(about: NamedNode, title: impl Into<String>) -> Self {
        Self {
            about,
            title: title.into(),
            description: None,
            publisher: None,
            details: None,
            services: Vec::new(),
            prefix_definitions: Vec::new(),
        }
    }

    /// A description.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The publishing tool.
    #[must_use]
    pub fn with_publisher(mut self, publisher: Publisher) -> Self {
        self.publisher = Some(publisher);
        self
    }

    /// A human-readable page about the provider (`oslc:details`).
    #[must_use]
    pub fn with_details(mut self, details: NamedNode) -> Self {
        self.details = Some(details);
        self
    }

    /// Adds a service.
    #[must_use]
    pub fn with_service(mut self, service: Service) -> Self {
        self.services.push(service);
        self
    }

    /// Adds a prefix definition.
    #[must_use]
    pub fn with_prefix_definition(mut self, definition: PrefixDefinition) -> Self {
        self.prefix_definitions.push(definition);
        self
    }

    /// The provider's IRI.
    #[must_use]
    pub fn about(&self) -> NamedNodeRef<'_> {
        self.about.as_ref()
    }

    /// The title.
    #[must_use]
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The services.
    #[must_use]
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// The prefix definitions.
    #[must_use]
    pub fn prefix_definitions(&self) -> &[PrefixDefinition] {
        &self.prefix_definitions
    }

    /// The provider as a resource at its IRI.
    #[must_use]
    pub fn to_resource(&self) -> Resource {
        Resource::from_value(self.about.clone(), self)
    }
}

impl ToGraph for ServiceProvider {
    fn add_to_graph(&self, s: NamedOrBlankNodeRef<'_>, graph: &mut Graph) {
        add(graph, s, rdf::r#type, oslc::ServiceProvider);
        add_rich(graph, s, dcterms::title, &self.title);
        add_opt_rich(graph, s, dcterms::description, self.description.as_ref());
        if let Some(publisher) = &self.publisher {
            add_nested(graph, s, dcterms::publisher, publisher);
        }
        if let Some(details) = &self.details {
            add(graph, s, oslc::details, details);
        }
        for service in &self.services {
            add_nested(graph, s, oslc::service, service);
        }
        for definition in &self.prefix_definitions {
            add_nested(graph, s, oslc::prefixDefinition, definition);
        }
    }
}

/// The entry point of discovery: the list of service providers (`oslc:ServiceProviderCatalog`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceProviderCatalog {
    about: NamedNode,
    title: String,
    description: Option<String>,
    publisher: Option<Publisher>,
    domains: Vec<NamedNode>,
    providers: Vec<ServiceProvider>,
}

impl ServiceProviderCatalog {
    /// A catalog at `about` with a title.
    #[must_use]
    pub fn new(about: NamedNode, title: impl Into<String>) -> Self {
        Self {
            about,
            title: title.into(),
            description: None,
            publisher: None,
            domains: Vec::new(),
            providers: Vec::new(),
        }
    }

    /// A description.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The publishing tool.
    #[must_use]
    pub fn with_publisher(mut self, publisher: Publisher) -> Self {
        self.publisher = Some(publisher);
        self
    }

    /// Lists a service provider, described in full so a client finds its services without another request (as
    /// Eclipse Lyo does); the catalog also lists the provider's domains.
    #[must_use]
    pub fn with_service_provider(mut self, provider: &ServiceProvider) -> Self {
        for service in &provider.services {
            if !self.domains.contains(&service.domain) {
                self.domains.push(service.domain.clone());
            }
        }
        self.providers.push(provider.clone());
        self
    }

    /// The catalog's IRI.
    #[must_use]
    pub fn about(&self) -> NamedNodeRef<'_> {
        self.about.as_ref()
    }

    /// The catalog as a resource at its IRI.
    #[must_use]
    pub fn to_resource(&self) -> Resource {
        Resource::from_value(self.about.clone(), self)
    }
}

impl ToGraph for ServiceProviderCatalog {
    fn add_to_graph(&self, s: NamedOrBlankNodeRef<'_>, graph: &mut Graph) {
        add(graph, s, rdf::r#type, oslc::ServiceProviderCatalog);
        add_rich(graph, s, dcterms::title, &self.title);
        add_opt_rich(graph, s, dcterms::description, self.description.as_ref());
        if let Some(publisher) = &self.publisher {
            add_nested(graph, s, dcterms::publisher, publisher);
        }
        for domain in &self.domains {
            add(graph, s, oslc::domain, domain);
        }
        for provider in &self.providers {
            add(graph, s, oslc::serviceProvider, &provider.about);
            provider.add_to_graph(provider.about.as_ref().into(), graph);
        }
    }
}
