//! StackStorm rules as OSLC resources, and back.
//!
//! ```
//! use adapter_stackstorm::oslc::{RuleUris, rule_from_graph, rule_to_resource};
//! use adapter_stackstorm::st2::Rule;
//! use oslc_core::Container;
//! use oslc_core::oxrdf::NamedNode;
//!
//! let uris = RuleUris {
//!     container: Container::new(NamedNode::new("https://st2-oslc.example/serviceProviders/1/changeRequests")?),
//!     service_provider: NamedNode::new("https://st2-oslc.example/serviceProviders/1")?,
//! };
//! let mut rule = Rule::new("ops", "watch_disk", "core.st2.IntervalTimer", "core.local");
//! rule.id = Some("58eddb871878c12be65c9fdd".into());
//! let resource = rule_to_resource(&rule, &uris)?;
//! let back = rule_from_graph(resource.graph(), resource.subject().into())?;
//! assert_eq!((back.pack, back.name), (rule.pack, rule.name));
//! Ok::<_, Box<dyn std::error::Error>>(())
//! ```

use oslc_core::oxrdf::{BlankNode, Graph, Literal, NamedNode, NamedNodeRef, NamedOrBlankNodeRef, TermRef, TripleRef};
use oslc_core::vocab::{dcterms, oslc, oslc_cm, rdf, xsd};
use oslc_core::{Container, Error, Resource, Result};
use serde_json::{Map, Value};

use super::vocab as st2;
use crate::st2::{MASKED, Rule, Tag, Trigger};

/// What a rule resource links to besides itself: its service provider.
#[derive(Debug, Clone)]
pub struct RuleUris {
    /// The rules' container (`…/serviceProviders/1/changeRequests`).
    pub container: Container,
    /// The service provider (`…/serviceProviders/1`).
    pub service_provider: NamedNode,
}

fn json_literal(value: &Map<String, Value>) -> Literal {
    Literal::new_typed_literal(Value::Object(value.clone()).to_string(), rdf::JSON)
}

fn add(graph: &mut Graph, s: NamedOrBlankNodeRef<'_>, p: NamedNodeRef<'_>, o: impl Into<TermRefOwned>) {
    let o = o.into();
    graph.insert(TripleRef::new(s, p, o.as_ref()));
}

/// An owned term accepted by [`add`].
enum TermRefOwned {
    Literal(Literal),
    Node(NamedNode),
    Blank(BlankNode),
}

impl TermRefOwned {
    fn as_ref(&self) -> TermRef<'_> {
        match self {
            Self::Literal(l) => l.as_ref().into(),
            Self::Node(n) => n.as_ref().into(),
            Self::Blank(b) => b.as_ref().into(),
        }
    }
}

impl From<Literal> for TermRefOwned {
    fn from(l: Literal) -> Self {
        Self::Literal(l)
    }
}

impl From<NamedNode> for TermRefOwned {
    fn from(n: NamedNode) -> Self {
        Self::Node(n)
    }
}

impl From<NamedNodeRef<'_>> for TermRefOwned {
    fn from(n: NamedNodeRef<'_>) -> Self {
        Self::Node(n.into_owned())
    }
}

impl From<BlankNode> for TermRefOwned {
    fn from(b: BlankNode) -> Self {
        Self::Blank(b)
    }
}

fn text(value: &str) -> Literal {
    Literal::new_simple_literal(value)
}

/// The OSLC resource of a rule (as st2 shows it: secret parameters already masked), with the OSLC Actions that are
/// available on it now (enable or disable, and delete), each bound to an HTTP request that carries it out.
///
/// # Errors
/// [`Error::Backend`] for a rule without an id.
pub fn rule_to_resource(rule: &Rule, uris: &RuleUris) -> Result<Resource> {
    let id = rule
        .id
        .as_deref()
        .ok_or_else(|| Error::Backend { message: format!("rule {} has no id", rule.reference()), source: None })?;
    let subject = uris.container.member(id);
    let s: NamedOrBlankNodeRef<'_> = subject.as_ref().into();
    let mut g = Graph::new();
    add(&mut g, s, rdf::r#type, oslc_cm::ChangeRequest);
    add(&mut g, s, rdf::r#type, st2::Rule);
    add(&mut g, s, dcterms::identifier, text(id));
    add(&mut g, s, dcterms::title, text(&rule.name));
    if let Some(description) = &rule.description {
        add(&mut g, s, dcterms::description, text(description));
    }
    add(&mut g, s, st2::pack, text(&rule.pack));
    add(&mut g, s, st2::r#ref, text(&rule.reference()));
    add(&mut g, s, st2::enabled, Literal::new_typed_literal(rule.enabled.to_string(), xsd::boolean));
    add(&mut g, s, oslc_cm::status, text(if rule.enabled { "Enabled" } else { "Disabled" }));
    if !rule.trigger.trigger_type.is_empty() {
        add(&mut g, s, st2::triggerType, text(&rule.trigger.trigger_type));
    }
    if let Some(reference) = &rule.trigger.reference {
        add(&mut g, s, st2::triggerRef, text(reference));
    }
    add(&mut g, s, st2::triggerParameters, json_literal(&rule.trigger.parameters));
    add(&mut g, s, st2::criteria, json_literal(&rule.criteria));
    add(&mut g, s, st2::actionRef, text(&rule.action.reference));
    add(&mut g, s, st2::actionParameters, json_literal(&rule.action.parameters));
    for tag in &rule.tags {
        let node = BlankNode::default();
        add(&mut g, s, st2::tag, node.clone());
        add(&mut g, node.as_ref().into(), st2::tagName, text(&tag.name));
        add(&mut g, node.as_ref().into(), st2::tagValue, text(&tag.value));
    }
    add(&mut g, s, oslc::serviceProvider, uris.service_provider.clone());
    Ok(Resource::from_graph(subject, g))
}

/// The values of the first property among `names` (local names, in any namespace, as the original adapter's
/// `st2_oslc:` terms and this vocabulary's terms both are accepted) on `subject`.
pub(crate) fn find<'g>(graph: &'g Graph, subject: NamedOrBlankNodeRef<'g>, names: &[&str]) -> Option<TermRef<'g>> {
    names.iter().find_map(|name| {
        graph.triples_for_subject(subject).find_map(|t| (local_name(t.predicate.as_str()) == *name).then_some(t.object))
    })
}

/// The part of an IRI after its last `#`, `/` or `:`.
pub(crate) fn local_name(iri: &str) -> &str {
    iri.rsplit(['#', '/', ':']).next().unwrap_or(iri)
}

fn literal_text(term: Option<TermRef<'_>>) -> Option<String> {
    match term {
        Some(TermRef::Literal(l)) => Some(oslc_core::rdf::literal_text(l).into_owned()),
        Some(TermRef::NamedNode(n)) => Some(n.as_str().to_owned()),
        _ => None,
    }
}

fn boolean(term: Option<TermRef<'_>>, property: &str) -> Result<Option<bool>> {
    match literal_text(term).as_deref() {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(other) => {
            Err(Error::InvalidResource { message: format!("{property} must be true or false, not {other:?}") })
        }
    }
}

fn json_object(term: Option<TermRef<'_>>, property: &str) -> Result<Map<String, Value>> {
    match literal_text(term) {
        None => Ok(Map::new()),
        Some(text) if text.trim().is_empty() => Ok(Map::new()),
        Some(text) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(Error::InvalidResource { message: format!("{property} must be a JSON object") }),
            Err(e) => Err(Error::InvalidResource { message: format!("{property} is not valid JSON: {e}") }),
        },
    }
}

/// The rule a client's representation describes (for POST and PUT). Read-only properties (id, ref, trigger ref,
/// status) are ignored; properties are found by local name, so bodies written with the original adapter's
/// `st2_oslc:` terms (`ruleTitle`, `rulePack`, `ruleStatus`, `triggerType`, `actionRef`) are read too.
///
/// # Errors
/// [`Error::InvalidResource`] naming the property that is missing or malformed.
pub fn rule_from_graph(graph: &Graph, subject: NamedOrBlankNodeRef<'_>) -> Result<Rule> {
    let name = literal_text(find(graph, subject, &["title", "ruleTitle", "name"]))
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| Error::InvalidResource { message: "a rule needs a name: dcterms:title".to_owned() })?;
    let pack = literal_text(find(graph, subject, &["pack", "rulePack"])).unwrap_or_else(|| "default".to_owned());
    let trigger_type = literal_text(find(graph, subject, &["triggerType"]))
        .ok_or_else(|| Error::InvalidResource { message: "a rule needs a trigger type: st2:triggerType".to_owned() })?;
    let action_ref = literal_text(find(graph, subject, &["actionRef"]))
        .ok_or_else(|| Error::InvalidResource { message: "a rule needs an action: st2:actionRef".to_owned() })?;
    let mut rule = Rule::new(&pack, &name, &trigger_type, &action_ref);
    rule.description = literal_text(find(graph, subject, &["description"]));
    rule.enabled = boolean(find(graph, subject, &["enabled", "ruleStatus"]), "st2:enabled")?.unwrap_or(false);
    rule.trigger = Trigger {
        trigger_type,
        parameters: json_object(find(graph, subject, &["triggerParameters"]), "st2:triggerParameters")?,
        reference: None,
        description: None,
    };
    rule.criteria = json_object(find(graph, subject, &["criteria"]), "st2:criteria")?;
    rule.action.parameters = json_object(find(graph, subject, &["actionParameters"]), "st2:actionParameters")?;
    for tag in graph.objects_for_subject_predicate(subject, st2::tag) {
        let node = match tag {
            TermRef::BlankNode(b) => NamedOrBlankNodeRef::from(b),
            TermRef::NamedNode(n) => NamedOrBlankNodeRef::from(n),
            _ => continue,
        };
        rule.tags.push(Tag {
            name: literal_text(graph.object_for_subject_predicate(node, st2::tagName)).unwrap_or_default(),
            value: literal_text(graph.object_for_subject_predicate(node, st2::tagValue)).unwrap_or_default(),
        });
    }
    Ok(rule)
}

/// Puts back the secret values a client saw masked: a parameter sent as `********` keeps the value st2 holds.
pub fn unmask(rule: &mut Rule, current: &Rule) {
    for (name, value) in &mut rule.action.parameters {
        if value.as_str() == Some(MASKED)
            && let Some(clear) = current.action.parameters.get(name)
        {
            value.clone_from(clear);
        }
    }
}
