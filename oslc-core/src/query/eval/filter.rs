//! `oslc.where`: terms prepared once per query, then held against each member.

use std::cmp::Ordering;
use std::str::FromStr;

use oxrdf::{LiteralRef, NamedNodeRef, NamedOrBlankNodeRef, TermRef};
use oxsdatatypes::{Boolean, Date, DateTime, Decimal, Double};

use crate::Resource;
use crate::query::ComparisonOp;
use crate::query::{CompoundTerm, Property, SimpleTerm, Value};
use crate::vocab::{rdf, xsd};

/// A value of `oslc.where` with its typed readings, parsed once per query rather than once per comparison.
pub(super) struct Prepared<'q> {
    value: &'q Value,
    datetime: Option<DateTime>,
    date: Option<Date>,
    decimal: Option<Decimal>,
    double: Option<Double>,
    boolean: Option<bool>,
}

impl<'q> Prepared<'q> {
    fn new(value: &'q Value) -> Self {
        let lexical = match value {
            Value::Integer(l) | Value::Decimal(l) => Some(l.as_str()),
            Value::String { value, .. } => Some(value.as_str()),
            _ => None,
        };
        Self {
            value,
            datetime: lexical.and_then(|l| DateTime::from_str(l).ok()),
            date: lexical.and_then(|l| Date::from_str(l).ok()),
            decimal: lexical.and_then(|l| Decimal::from_str(l).ok()),
            double: lexical.and_then(|l| Double::from_str(l).ok()),
            boolean: lexical.and_then(parse_bool),
        }
    }
}

/// A term of `oslc.where` with its values prepared.
pub(super) enum PreparedTerm<'q> {
    Comparison { property: &'q Property, op: ComparisonOp, value: Prepared<'q> },
    In { property: &'q Property, values: Vec<Prepared<'q>> },
    Scoped { property: &'q Property, terms: Vec<PreparedTerm<'q>> },
}

pub(super) fn prepare(clause: &CompoundTerm) -> Vec<PreparedTerm<'_>> {
    clause
        .0
        .iter()
        .map(|term| match term {
            SimpleTerm::Comparison { property, op, value } => {
                PreparedTerm::Comparison { property, op: *op, value: Prepared::new(value) }
            }
            SimpleTerm::In { property, values } => {
                PreparedTerm::In { property, values: values.iter().map(Prepared::new).collect() }
            }
            SimpleTerm::Scoped { property, terms } => PreparedTerm::Scoped { property, terms: prepare(terms) },
        })
        .collect()
}

/// Whether `node` (the member or a node nested in it) satisfies every term.
pub(super) fn holds(resource: &Resource, node: NamedOrBlankNodeRef<'_>, clause: &[PreparedTerm<'_>]) -> bool {
    clause.iter().all(|term| match term {
        PreparedTerm::Comparison { property, op, value } => {
            values(resource, node, property).any(|o| satisfies(compare(o, value), *op))
        }
        PreparedTerm::In { property, values: candidates } => {
            values(resource, node, property).any(|o| candidates.iter().any(|v| compare(o, v) == Some(Ordering::Equal)))
        }
        PreparedTerm::Scoped { property, terms } => values(resource, node, property).any(|o| match as_node(o) {
            Some(n) => holds(resource, n, terms),
            None => false,
        }),
    })
}

pub(super) fn values<'a>(
    resource: &'a Resource,
    node: NamedOrBlankNodeRef<'a>,
    property: &'a Property,
) -> Box<dyn Iterator<Item = TermRef<'a>> + 'a> {
    match property {
        Property::Wildcard => Box::new(resource.triples_of(node).map(|t| t.object)),
        Property::Name(name) => resource.objects_of(node, name.iri()),
    }
}

pub(super) fn as_node(term: TermRef<'_>) -> Option<NamedOrBlankNodeRef<'_>> {
    match term {
        TermRef::NamedNode(n) => Some(n.into()),
        TermRef::BlankNode(b) => Some(b.into()),
        _ => None,
    }
}

pub(super) fn satisfies(ordering: Option<Ordering>, op: ComparisonOp) -> bool {
    match op {
        ComparisonOp::Eq => ordering == Some(Ordering::Equal),
        ComparisonOp::Ne => ordering != Some(Ordering::Equal),
        ComparisonOp::Lt => ordering == Some(Ordering::Less),
        ComparisonOp::Gt => ordering == Some(Ordering::Greater),
        ComparisonOp::Le => matches!(ordering, Some(Ordering::Less | Ordering::Equal)),
        ComparisonOp::Ge => matches!(ordering, Some(Ordering::Greater | Ordering::Equal)),
    }
}

/// How `term` (a member's value) compares with the query's `value`; `None` when they cannot be compared.
pub(super) fn compare(term: TermRef<'_>, prepared: &Prepared<'_>) -> Option<Ordering> {
    match prepared.value {
        Value::Iri(iri) => compare_iri(term, iri.as_ref()),
        Value::Name(name) => compare_iri(term, name.iri()),
        Value::Boolean(b) => Some(parse_bool(literal(term)?.value())?.cmp(b)),
        Value::Integer(_) | Value::Decimal(_) => compare_prepared_number(literal(term)?, prepared),
        Value::String { value, language, datatype } => {
            let term = literal(term)?;
            let as_type = datatype.as_ref().map_or_else(|| term.datatype(), |d| d.iri());
            match Kind::of(as_type) {
                Kind::DateTime => DateTime::from_str(term.value()).ok()?.partial_cmp(prepared.datetime.as_ref()?),
                Kind::Date => Date::from_str(term.value()).ok()?.partial_cmp(prepared.date.as_ref()?),
                Kind::Number => compare_prepared_number(term, prepared),
                Kind::Boolean => Some(parse_bool(term.value())?.cmp(&prepared.boolean?)),
                Kind::Text => {
                    if datatype.is_some() && !Kind::is_textual(term) {
                        return None;
                    }
                    if let Some(language) = language
                        && !term.language().is_some_and(|l| l.eq_ignore_ascii_case(language))
                    {
                        return None;
                    }
                    Some(term.value().cmp(value.as_str()))
                }
                Kind::Other => (term.datatype() == as_type).then(|| term.value().cmp(value.as_str())),
            }
        }
    }
}

pub(super) fn compare_iri(term: TermRef<'_>, iri: NamedNodeRef<'_>) -> Option<Ordering> {
    match term {
        TermRef::NamedNode(n) => Some(n.as_str().cmp(iri.as_str())),
        _ => None,
    }
}

pub(super) fn literal(term: TermRef<'_>) -> Option<LiteralRef<'_>> {
    match term {
        TermRef::Literal(l) => Some(l),
        _ => None,
    }
}

pub(super) fn parse_bool(lexical: &str) -> Option<bool> {
    Boolean::from_str(lexical.trim()).ok().map(bool::from)
}

/// [`compare_number`] with the query value's readings parsed already.
pub(super) fn compare_prepared_number(term: LiteralRef<'_>, prepared: &Prepared<'_>) -> Option<Ordering> {
    let dt = term.datatype();
    if dt != xsd::double
        && dt != xsd::float
        && let (Ok(a), Some(b)) = (Decimal::from_str(term.value().trim()), prepared.decimal)
    {
        return Some(a.cmp(&b));
    }
    Double::from_str(term.value().trim()).ok()?.partial_cmp(&prepared.double?)
}

pub(super) fn compare_number(term: LiteralRef<'_>, lexical: &str) -> Option<Ordering> {
    let dt = term.datatype();
    if dt != xsd::double
        && dt != xsd::float
        && let (Ok(a), Ok(b)) = (Decimal::from_str(term.value().trim()), Decimal::from_str(lexical))
    {
        return Some(a.cmp(&b));
    }
    let (a, b) = (Double::from_str(term.value().trim()).ok()?, Double::from_str(lexical).ok()?);
    a.partial_cmp(&b)
}

/// How a datatype compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Kind {
    Number,
    DateTime,
    Date,
    Boolean,
    Text,
    Other,
}

impl Kind {
    pub(super) fn of(datatype: NamedNodeRef<'_>) -> Self {
        const NUMBERS: [&str; 16] = [
            "integer",
            "decimal",
            "double",
            "float",
            "int",
            "long",
            "short",
            "byte",
            "nonNegativeInteger",
            "positiveInteger",
            "negativeInteger",
            "nonPositiveInteger",
            "unsignedInt",
            "unsignedLong",
            "unsignedShort",
            "unsignedByte",
        ];
        if let Some(local) = datatype.as_str().strip_prefix(xsd::NS) {
            return match local {
                "dateTime" | "dateTimeStamp" => Self::DateTime,
                "date" => Self::Date,
                "boolean" => Self::Boolean,
                "string" | "normalizedString" | "token" => Self::Text,
                l if NUMBERS.contains(&l) => Self::Number,
                _ => Self::Other,
            };
        }
        if datatype == rdf::langString || datatype == rdf::XMLLiteral { Self::Text } else { Self::Other }
    }

    pub(super) fn is_textual(term: LiteralRef<'_>) -> bool {
        Self::of(term.datatype()) == Self::Text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxrdf::Literal;

    #[test]
    fn literal_comparisons_are_typed() {
        let int = Literal::new_typed_literal("10", xsd::integer);
        let when = Literal::new_typed_literal("2018-01-30T12:25:00Z", xsd::dateTime);
        let cmp = |term: TermRef<'_>, value: Value| compare(term, &Prepared::new(&value));
        assert_eq!(cmp(int.as_ref().into(), Value::Integer("9".into())), Some(Ordering::Greater));
        assert_eq!(cmp(int.as_ref().into(), Value::Decimal("10.0".into())), Some(Ordering::Equal));
        let plain = |s: &str| Value::String { value: s.into(), language: None, datatype: None };
        assert_eq!(cmp(when.as_ref().into(), plain("2018-01-30T12:26:00Z")), Some(Ordering::Less));
        assert_eq!(cmp(when.as_ref().into(), plain("not a date")), None);
        let text = Literal::new_simple_literal("abc");
        assert_eq!(cmp(text.as_ref().into(), plain("abd")), Some(Ordering::Less));
        assert_eq!(cmp(text.as_ref().into(), Value::Integer("1".into())), None);
    }
}
