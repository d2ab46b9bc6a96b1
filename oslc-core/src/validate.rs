//! Checking a resource a client sent against the properties of its collection's shape, as the server kit does for
//! POST and PUT: how many values each property has (`oslc:occurs`, with `oslc:defaultValue` standing in for a
//! missing Exactly-one value on create), what kind of value (`oslc:valueType`), which values (`oslc:allowedValue`),
//! and that read-only properties (`oslc:readOnly`) keep their values.
//!
//! Properties the shape does not declare are left to the provider (OSLC's open world). On create, read-only
//! properties are ignored (the server sets them); on replace, leaving one out is fine and changing one is a
//! conflict.
//!
//! ```
//! use oslc_core::discovery::{Occurs, Property};
//! use oslc_core::oxrdf::{Literal, NamedNode};
//! use oslc_core::validate::{Violation, check};
//! use oslc_core::vocab::{dcterms, xsd};
//! use oslc_core::Resource;
//!
//! let title = Property::new("title", dcterms::title.into_owned(), Occurs::ExactlyOne)
//!     .with_value_type(xsd::string.into_owned());
//! let mut cr = Resource::new(NamedNode::new("http://example.com/cr/1")?);
//! let err = check(&[title.clone()], &cr, None).unwrap_err();
//! assert!(matches!(err, Violation::Occurs { ref property, .. } if property == "title"));
//! cr.insert(dcterms::title, &Literal::new_simple_literal("Crash on start"));
//! assert!(check(&[title], &cr, None).is_ok());
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! ```

use oxrdf::{NamedNodeRef, TermRef};

use crate::discovery::{Occurs, Property};
use crate::vocab::{oslc, rdf, xsd};
use crate::{Error, Resource};

/// Why a resource does not fit its shape; each names the property (its `oslc:name`) and its IRI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Violation {
    /// Too many or too few values.
    #[error("{property} ({definition}) must occur {occurs}, found {found} value(s)")]
    Occurs {
        /// The property's name.
        property: String,
        /// The property IRI.
        definition: String,
        /// What the shape says, such as `exactly once`.
        occurs: &'static str,
        /// How many values the resource has.
        found: usize,
    },
    /// A value of the wrong kind, such as a literal where a resource is expected, or `"maybe"` for a boolean.
    #[error("{property} ({definition}) must be {expected}, not {value}")]
    ValueType {
        /// The property's name.
        property: String,
        /// The property IRI.
        definition: String,
        /// The expected value type.
        expected: String,
        /// The offending value.
        value: String,
    },
    /// A value outside the allowed values.
    #[error("{property} ({definition}) must be one of {allowed}, not {value}")]
    NotAllowed {
        /// The property's name.
        property: String,
        /// The property IRI.
        definition: String,
        /// The allowed values, listed.
        allowed: String,
        /// The offending value.
        value: String,
    },
    /// A read-only property whose value the request changes (a conflict, 409).
    #[error("{property} ({definition}) is read-only: it cannot be changed from {current} to {requested}")]
    ReadOnly {
        /// The property's name.
        property: String,
        /// The property IRI.
        definition: String,
        /// The current values, listed.
        current: String,
        /// The values the request holds, listed.
        requested: String,
    },
}

impl From<Violation> for Error {
    /// [`Violation::ReadOnly`] is a conflict (409, as OSLC CM 3.0 asks); the others are invalid resources (400).
    fn from(violation: Violation) -> Self {
        match violation {
            Violation::ReadOnly { .. } => Self::Conflict { message: violation.to_string() },
            other => Self::InvalidResource { message: other.to_string() },
        }
    }
}

/// Checks `resource` against `properties`: a resource to create when `current` is `None`, else a replacement
/// of `current`. Stops at the first violation, in the order the properties are declared.
///
/// # Errors
/// The [`Violation`] found.
pub fn check(properties: &[Property], resource: &Resource, current: Option<&Resource>) -> Result<(), Violation> {
    for property in properties {
        let values: Vec<TermRef<'_>> = resource.objects(property.definition()).collect();
        if property.is_read_only() {
            match current {
                None => continue,
                Some(current) => {
                    check_read_only(property, &values, current)?;
                    continue;
                }
            }
        }
        check_occurs(property, values.len(), current.is_none())?;
        for value in &values {
            check_value(property, *value)?;
        }
    }
    Ok(())
}

fn check_occurs(property: &Property, found: usize, creating: bool) -> Result<(), Violation> {
    let defaulted = creating && property.default_value().is_some();
    let (ok, occurs) = match property.occurs() {
        Occurs::ExactlyOne => (found == 1 || (found == 0 && defaulted), "exactly once"),
        Occurs::ZeroOrOne => (found <= 1, "at most once"),
        Occurs::OneOrMany => (found >= 1 || (found == 0 && defaulted), "at least once"),
        Occurs::ZeroOrMany => (true, "any number of times"),
    };
    if ok {
        return Ok(());
    }
    Err(Violation::Occurs {
        property: property.name().to_owned(),
        definition: property.definition().as_str().to_owned(),
        occurs,
        found,
    })
}

fn check_value(property: &Property, value: TermRef<'_>) -> Result<(), Violation> {
    if let Some(value_type) = property.value_type()
        && !fits(value_type, value)
    {
        return Err(Violation::ValueType {
            property: property.name().to_owned(),
            definition: property.definition().as_str().to_owned(),
            expected: value_type.to_string(),
            value: value.to_string(),
        });
    }
    let allowed = property.allowed_values();
    if !allowed.is_empty() {
        let text = term_text(value);
        if !allowed.iter().any(|a| crate::rdf::literal_text(a.as_ref()) == text) {
            return Err(Violation::NotAllowed {
                property: property.name().to_owned(),
                definition: property.definition().as_str().to_owned(),
                allowed: allowed.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
                value: value.to_string(),
            });
        }
    }
    Ok(())
}

fn check_read_only(property: &Property, requested: &[TermRef<'_>], current: &Resource) -> Result<(), Violation> {
    if requested.is_empty() {
        // Left out: the property keeps its value.
        return Ok(());
    }
    let mut now: Vec<String> = current.objects(property.definition()).map(term_text).collect();
    let mut asked: Vec<String> = requested.iter().map(|t| term_text(*t)).collect();
    now.sort();
    asked.sort();
    if now == asked {
        return Ok(());
    }
    Err(Violation::ReadOnly {
        property: property.name().to_owned(),
        definition: property.definition().as_str().to_owned(),
        current: now.join(", "),
        requested: asked.join(", "),
    })
}

/// The text of a value: a literal's plain text, an IRI, or a blank node's id.
fn term_text(term: TermRef<'_>) -> String {
    match term {
        TermRef::Literal(l) => crate::rdf::literal_text(l).into_owned(),
        TermRef::NamedNode(n) => n.as_str().to_owned(),
        other => other.to_string(),
    }
}

/// Whether `value` is of `value_type`. Literals are read leniently where clients differ: a plain string holding a
/// valid lexical form passes for a typed value, and any textual literal for a string.
fn fits(value_type: NamedNodeRef<'_>, value: TermRef<'_>) -> bool {
    let literal = match value {
        TermRef::Literal(l) => l,
        TermRef::NamedNode(_) => {
            return value_type == oslc::Resource
                || value_type == oslc::AnyResource
                || value_type == oslc::LocalResource;
        }
        _ => return value_type == oslc::AnyResource || value_type == oslc::LocalResource,
    };
    let datatype = literal.datatype();
    let textual = datatype == xsd::string || datatype == rdf::langString;
    if value_type == xsd::string {
        return textual || datatype == rdf::XMLLiteral;
    }
    if value_type == rdf::XMLLiteral || value_type == rdf::JSON {
        return textual || datatype == value_type;
    }
    if !crate::discovery::is_literal_type(value_type) {
        return false;
    }
    if datatype != value_type && !textual {
        return false;
    }
    valid_lexical(value_type, literal.value())
}

/// Whether `lexical` is a valid lexical form of the XSD datatype `value_type` (types this crate does not know
/// pass).
fn valid_lexical(value_type: NamedNodeRef<'_>, lexical: &str) -> bool {
    use std::str::FromStr as _;
    let lexical = lexical.trim();
    if value_type == xsd::boolean {
        oxsdatatypes::Boolean::from_str(lexical).is_ok()
    } else if value_type == xsd::integer {
        oxsdatatypes::Integer::from_str(lexical).is_ok()
    } else if value_type == xsd::decimal {
        oxsdatatypes::Decimal::from_str(lexical).is_ok()
    } else if value_type == xsd::double {
        oxsdatatypes::Double::from_str(lexical).is_ok()
    } else if value_type == xsd::float {
        oxsdatatypes::Float::from_str(lexical).is_ok()
    } else if value_type == xsd::dateTime {
        oxsdatatypes::DateTime::from_str(lexical).is_ok()
    } else if value_type == xsd::date {
        oxsdatatypes::Date::from_str(lexical).is_ok()
    } else {
        true
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use oxrdf::{BlankNode, Literal, NamedNode};

    use super::*;
    use crate::vocab::{dcterms, oslc_cm};

    fn cr() -> Resource {
        Resource::new(NamedNode::new_unchecked("http://example.com/cr/1"))
    }

    fn typed(value_type: NamedNodeRef<'_>) -> Property {
        Property::new("p", dcterms::subject.into_owned(), Occurs::ZeroOrMany).with_value_type(value_type.into_owned())
    }

    fn with(value: TermRef<'_>) -> Resource {
        let mut r = cr();
        r.insert(dcterms::subject, value);
        r
    }

    #[test]
    fn value_types() {
        let yes = Literal::new_typed_literal("true", xsd::boolean);
        let plain_yes = Literal::new_simple_literal("1");
        let maybe = Literal::new_simple_literal("maybe");
        let iri = NamedNode::new_unchecked("http://example.com/x");
        let blank = BlankNode::default();
        let boolean = [typed(xsd::boolean)];
        assert!(check(&boolean, &with(yes.as_ref().into()), None).is_ok());
        assert!(check(&boolean, &with(plain_yes.as_ref().into()), None).is_ok());
        assert!(matches!(check(&boolean, &with(maybe.as_ref().into()), None), Err(Violation::ValueType { .. })));
        assert!(check(&boolean, &with(iri.as_ref().into()), None).is_err());
        let date = [typed(xsd::dateTime)];
        let when = Literal::new_typed_literal("2026-12-02T05:00:00Z", xsd::dateTime);
        assert!(check(&date, &with(when.as_ref().into()), None).is_ok());
        assert!(check(&date, &with(Literal::new_simple_literal("yesterday").as_ref().into()), None).is_err());
        let string = [typed(xsd::string)];
        assert!(
            check(&string, &with(Literal::new_language_tagged_literal_unchecked("a", "en").as_ref().into()), None)
                .is_ok()
        );
        assert!(check(&string, &with(yes.as_ref().into()), None).is_err(), "a boolean is not a string");
        let resource = [typed(oslc::Resource)];
        assert!(check(&resource, &with(iri.as_ref().into()), None).is_ok());
        assert!(check(&resource, &with(blank.as_ref().into()), None).is_err());
        assert!(check(&resource, &with(maybe.as_ref().into()), None).is_err());
        assert!(check(&[typed(oslc::LocalResource)], &with(blank.as_ref().into()), None).is_ok());
    }

    #[test]
    fn allowed_values_occurs_and_read_only() {
        let status = Property::new("status", oslc_cm::status.into_owned(), Occurs::ZeroOrOne)
            .with_allowed_value(Literal::new_simple_literal("Open"))
            .with_allowed_value(Literal::new_simple_literal("Closed"));
        let mut r = cr();
        r.insert(oslc_cm::status, &Literal::new_simple_literal("Open"));
        assert!(check(std::slice::from_ref(&status), &r, None).is_ok());
        r.insert(oslc_cm::status, &Literal::new_simple_literal("Closed"));
        let err = check(std::slice::from_ref(&status), &r, None).unwrap_err();
        assert!(matches!(err, Violation::Occurs { found: 2, .. }), "{err}");
        let mut other = cr();
        other.insert(oslc_cm::status, &Literal::new_simple_literal("Pending"));
        assert!(matches!(check(std::slice::from_ref(&status), &other, None), Err(Violation::NotAllowed { .. })));

        let id = Property::new("identifier", dcterms::identifier.into_owned(), Occurs::ExactlyOne).with_read_only(true);
        let mut current = cr();
        current.insert(dcterms::identifier, &Literal::new_simple_literal("1"));
        assert!(check(std::slice::from_ref(&id), &cr(), None).is_ok(), "a create need not send it");
        assert!(check(std::slice::from_ref(&id), &cr(), Some(&current)).is_ok(), "a PUT may leave it out");
        assert!(check(std::slice::from_ref(&id), &current, Some(&current)).is_ok(), "or send it unchanged");
        let mut changed = cr();
        changed.insert(dcterms::identifier, &Literal::new_simple_literal("2"));
        let err = check(std::slice::from_ref(&id), &changed, Some(&current)).unwrap_err();
        assert!(matches!(err, Violation::ReadOnly { .. }));
        assert_eq!(Error::from(err).status(), 409);

        let defaulted = Property::new("enabled", dcterms::r#type.into_owned(), Occurs::ExactlyOne)
            .with_default_value(Literal::new_simple_literal("false"));
        assert!(check(std::slice::from_ref(&defaulted), &cr(), None).is_ok(), "the default stands in on create");
        assert!(check(std::slice::from_ref(&defaulted), &cr(), Some(&current)).is_err(), "not on replace");
    }
}
