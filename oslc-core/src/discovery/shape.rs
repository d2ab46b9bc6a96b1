//! Resource shapes (OSLC Core 3.0 Resource Shape): what a collection's resources look like, for clients that build
//! forms and for the server kit, which checks bodies against them ([`crate::validate`]).
//!
//! ```
//! use oslc_core::discovery::{Occurs, Property, ResourceShape};
//! use oslc_core::vocab::{dcterms, oslc_cm, xsd};
//! use oxrdf::NamedNode;
//!
//! let shape = ResourceShape::new(NamedNode::new("http://example.com/shapes/cr")?, "Change request")
//!     .with_describes(oslc_cm::ChangeRequest.into_owned())
//!     .with_property(
//!         Property::new("title", dcterms::title.into_owned(), Occurs::ExactlyOne)
//!             .with_value_type(xsd::string.into_owned()),
//!     );
//! let resource = shape.to_resource();
//! assert!(resource.graph().len() > 5);
//! Ok::<_, Box<dyn std::error::Error>>(())
//! ```

use oxrdf::{BlankNode, Graph, Literal, NamedNode, NamedNodeRef, NamedOrBlankNodeRef};

use super::{add, add_nested, add_opt_rich, add_rich, add_text};
use crate::Resource;
use crate::resource::ToGraph;
use crate::vocab::{dcterms, oslc, rdf, xsd};

/// Whether values of `value_type` are literals (an `xsd:` datatype, `rdf:XMLLiteral`, `rdf:JSON`…), not resources.
pub(crate) fn is_literal_type(value_type: NamedNodeRef<'_>) -> bool {
    value_type.as_str().starts_with(xsd::NS) || value_type == rdf::XMLLiteral || value_type == rdf::JSON
}

/// How many values a property takes (`oslc:occurs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Occurs {
    /// `oslc:Exactly-one`
    ExactlyOne,
    /// `oslc:Zero-or-one`
    ZeroOrOne,
    /// `oslc:Zero-or-many`
    ZeroOrMany,
    /// `oslc:One-or-many`
    OneOrMany,
}

impl Occurs {
    /// The vocabulary term.
    #[must_use]
    pub fn iri(self) -> NamedNodeRef<'static> {
        match self {
            Self::ExactlyOne => oslc::Exactly_one,
            Self::ZeroOrOne => oslc::Zero_or_one,
            Self::ZeroOrMany => oslc::Zero_or_many,
            Self::OneOrMany => oslc::One_or_many,
        }
    }

    /// Whether at least one value is required.
    #[must_use]
    pub fn is_required(self) -> bool {
        matches!(self, Self::ExactlyOne | Self::OneOrMany)
    }

    /// Whether several values are allowed.
    #[must_use]
    pub fn is_many(self) -> bool {
        matches!(self, Self::ZeroOrMany | Self::OneOrMany)
    }
}

/// How a resource-valued property is given (`oslc:representation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Representation {
    /// `oslc:Reference`: by IRI.
    Reference,
    /// `oslc:Inline`: the value's triples are in the same document.
    Inline,
    /// `oslc:Either`.
    Either,
}

impl Representation {
    /// The vocabulary term.
    #[must_use]
    pub fn iri(self) -> NamedNodeRef<'static> {
        match self {
            Self::Reference => oslc::Reference,
            Self::Inline => oslc::Inline,
            Self::Either => oslc::Either,
        }
    }
}

/// One property constraint of a [`ResourceShape`] (`oslc:Property`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    name: String,
    definition: NamedNode,
    occurs: Occurs,
    value_type: Option<NamedNode>,
    ranges: Vec<NamedNode>,
    representation: Option<Representation>,
    read_only: Option<bool>,
    description: Option<String>,
    allowed_values: Vec<Literal>,
    default_value: Option<Literal>,
}

impl Property {
    /// A property `name` defined by the IRI `definition`, occurring `occurs` times (all three Exactly-one).
    ///
    /// Its `oslc:range` (One-or-many in `core-shapes.ttl`) is `oslc:Any` unless given with [`Property::with_range`].
    #[must_use]
    pub fn new(name: impl Into<String>, definition: NamedNode, occurs: Occurs) -> Self {
        Self {
            name: name.into(),
            definition,
            occurs,
            value_type: None,
            ranges: Vec::new(),
            representation: None,
            read_only: None,
            description: None,
            allowed_values: Vec::new(),
            default_value: None,
        }
    }

    /// The value the server gives the property when a client creates a resource without it (`oslc:defaultValue`):
    /// an Exactly-one property with a default may be left out of a POST.
    #[must_use]
    pub fn with_default_value(mut self, value: Literal) -> Self {
        self.default_value = Some(value);
        self
    }

    /// The default value, if there is one.
    #[must_use]
    pub fn default_value(&self) -> Option<&Literal> {
        self.default_value.as_ref()
    }

    /// The allowed values (`oslc:allowedValue`); empty when any value of the value type is allowed.
    #[must_use]
    pub fn allowed_values(&self) -> &[Literal] {
        &self.allowed_values
    }

    /// The classes the values belong to (`oslc:range`), as given.
    #[must_use]
    pub fn ranges(&self) -> &[NamedNode] {
        &self.ranges
    }

    /// The value type, such as `xsd:string` or `oslc:Resource`.
    #[must_use]
    pub fn with_value_type(mut self, value_type: NamedNode) -> Self {
        self.value_type = Some(value_type);
        self
    }

    /// A class the values belong to; may be given several times.
    #[must_use]
    pub fn with_range(mut self, range: NamedNode) -> Self {
        self.ranges.push(range);
        self
    }

    /// How resource values are represented.
    #[must_use]
    pub fn with_representation(mut self, representation: Representation) -> Self {
        self.representation = Some(representation);
        self
    }

    /// Whether clients may not set the property.
    #[must_use]
    pub fn with_read_only(mut self, read_only: bool) -> Self {
        self.read_only = Some(read_only);
        self
    }

    /// A description.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// An allowed value (`oslc:allowedValue`); may be given several times.
    #[must_use]
    pub fn with_allowed_value(mut self, value: Literal) -> Self {
        self.allowed_values.push(value);
        self
    }

    /// The property's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The property IRI.
    #[must_use]
    pub fn definition(&self) -> NamedNodeRef<'_> {
        self.definition.as_ref()
    }

    /// The cardinality.
    #[must_use]
    pub fn occurs(&self) -> Occurs {
        self.occurs
    }

    /// The value type.
    #[must_use]
    pub fn value_type(&self) -> Option<NamedNodeRef<'_>> {
        self.value_type.as_ref().map(NamedNode::as_ref)
    }

    /// Whether the property is read-only.
    #[must_use]
    pub fn is_read_only(&self) -> bool {
        self.read_only.unwrap_or(false)
    }

    /// Its description, if it has one.
    #[must_use]
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
}

impl ToGraph for Property {
    fn add_to_graph(&self, s: NamedOrBlankNodeRef<'_>, graph: &mut Graph) {
        add(graph, s, rdf::r#type, oslc::Property);
        add_text(graph, s, oslc::name, &self.name);
        add(graph, s, oslc::propertyDefinition, &self.definition);
        add(graph, s, oslc::occurs, self.occurs.iri());
        if self.ranges.is_empty() {
            // A literal property's values are of its value type; only a resource property ranges over oslc:Any.
            match &self.value_type {
                Some(value_type) if is_literal_type(value_type.as_ref()) => add(graph, s, oslc::range, value_type),
                _ => add(graph, s, oslc::range, oslc::Any),
            }
        }
        for range in &self.ranges {
            add(graph, s, oslc::range, range);
        }
        if let Some(value_type) = &self.value_type {
            add(graph, s, oslc::valueType, value_type);
        }
        if let Some(representation) = self.representation {
            add(graph, s, oslc::representation, representation.iri());
        }
        if let Some(read_only) = self.read_only {
            add(graph, s, oslc::readOnly, &Literal::new_typed_literal(read_only.to_string(), xsd::boolean));
        }
        if let Some(default) = &self.default_value {
            add(graph, s, oslc::defaultValue, default);
        }
        add_opt_rich(graph, s, dcterms::description, self.description.as_ref());
        if !self.allowed_values.is_empty() {
            let node = BlankNode::default();
            add(graph, s, oslc::allowedValues, &node);
            add(graph, node.as_ref().into(), rdf::r#type, oslc::AllowedValues);
            for value in &self.allowed_values {
                add(graph, node.as_ref().into(), oslc::allowedValue, value);
            }
        }
    }
}

/// The constraints on resources of some types (`oslc:ResourceShape`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceShape {
    about: NamedNode,
    title: String,
    description: Option<String>,
    describes: Vec<NamedNode>,
    properties: Vec<Property>,
}

impl ResourceShape {
    /// A shape at `about` with a title.
    #[must_use]
    pub fn new(about: NamedNode, title: impl Into<String>) -> Self {
        Self { about, title: title.into(), description: None, describes: Vec::new(), properties: Vec::new() }
    }

    /// A description.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// A type the shape describes; may be given several times.
    #[must_use]
    pub fn with_describes(mut self, ty: NamedNode) -> Self {
        self.describes.push(ty);
        self
    }

    /// Adds a property constraint.
    #[must_use]
    pub fn with_property(mut self, property: Property) -> Self {
        self.properties.push(property);
        self
    }

    /// The shape's IRI.
    #[must_use]
    pub fn about(&self) -> NamedNodeRef<'_> {
        self.about.as_ref()
    }

    /// The types it describes.
    #[must_use]
    pub fn describes(&self) -> &[NamedNode] {
        &self.describes
    }

    /// The property constraints.
    #[must_use]
    pub fn properties(&self) -> &[Property] {
        &self.properties
    }

    /// The property constraint for the property IRI `definition`.
    #[must_use]
    pub fn property(&self, definition: NamedNodeRef<'_>) -> Option<&Property> {
        self.properties.iter().find(|p| p.definition == definition)
    }

    /// The shape as a resource at its IRI.
    #[must_use]
    pub fn to_resource(&self) -> Resource {
        Resource::from_value(self.about.clone(), self)
    }
}

impl ToGraph for ResourceShape {
    fn add_to_graph(&self, s: NamedOrBlankNodeRef<'_>, graph: &mut Graph) {
        add(graph, s, rdf::r#type, oslc::ResourceShape);
        add_rich(graph, s, dcterms::title, &self.title);
        add_opt_rich(graph, s, dcterms::description, self.description.as_ref());
        for ty in &self.describes {
            add(graph, s, oslc::describes, ty);
        }
        for property in &self.properties {
            add_nested(graph, s, oslc::property, property);
        }
    }
}
