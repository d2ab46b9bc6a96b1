//! The syntax tree of OSLC Query 3.0 parameters, and its printing back to query syntax.

use std::fmt;

use oxrdf::{NamedNode, NamedNodeRef};

/// A prefixed name such as `dcterms:title`, with the IRI its prefix resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PrefixedName {
    prefix: String,
    local: String,
    iri: NamedNode,
}

impl PrefixedName {
    pub(crate) fn new(prefix: &str, local: &str, namespace: &str) -> Option<Self> {
        let iri = NamedNode::new(format!("{namespace}{local}")).ok()?;
        Some(Self { prefix: prefix.to_owned(), local: local.to_owned(), iri })
    }

    /// The prefix, such as `dcterms`.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The local name, such as `title`.
    #[must_use]
    pub fn local(&self) -> &str {
        &self.local
    }

    /// The IRI it stands for.
    #[must_use]
    pub fn iri(&self) -> NamedNodeRef<'_> {
        self.iri.as_ref()
    }
}

impl fmt::Display for PrefixedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.prefix, self.local)
    }
}

/// A property in a term: a prefixed name, or `*` for any property.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Property {
    /// `*`
    Wildcard,
    /// A named property.
    Name(PrefixedName),
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Wildcard => f.write_str("*"),
            Self::Name(name) => name.fmt(f),
        }
    }
}

/// A comparison operator of `oslc.where`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComparisonOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
}

impl ComparisonOp {
    /// The operator as written in a query.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Gt => ">",
            Self::Le => "<=",
            Self::Ge => ">=",
        }
    }
}

/// A value compared against in `oslc.where`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// `<http://…>`
    Iri(NamedNode),
    /// A prefixed name standing for an IRI, such as `oslc:Zero-or-many`.
    Name(PrefixedName),
    /// A quoted string, optionally with a language tag or a datatype.
    String {
        /// The unescaped string.
        value: String,
        /// `@lang`
        language: Option<String>,
        /// `^^prefix:name`
        datatype: Option<PrefixedName>,
    },
    /// `true` or `false`: short for `"true"^^xsd:boolean`.
    Boolean(bool),
    /// An integer such as `42`: short for `"42"^^xsd:integer` (the lexical form is kept).
    Integer(String),
    /// A decimal such as `3.14`: short for `"3.14"^^xsd:decimal` (the lexical form is kept).
    Decimal(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Iri(iri) => write!(f, "<{}>", escape(iri.as_str(), '>')),
            Self::Name(name) => name.fmt(f),
            Self::String { value, language, datatype } => {
                write!(f, "\"{}\"", escape(value, '"'))?;
                if let Some(language) = language {
                    write!(f, "@{language}")?;
                }
                if let Some(datatype) = datatype {
                    write!(f, "^^{datatype}")?;
                }
                Ok(())
            }
            Self::Boolean(b) => write!(f, "{b}"),
            Self::Integer(lexical) | Self::Decimal(lexical) => f.write_str(lexical),
        }
    }
}

/// Escapes `\` and the closing delimiter with a backslash, as `string_esc` and `uri_ref_esc` require.
fn escape(text: &str, delimiter: char) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\\' || c == delimiter {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The conjunction of terms an `oslc.where` expression (or a scoped term) is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CompoundTerm(pub Vec<SimpleTerm>);

impl fmt::Display for CompoundTerm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, term) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" and ")?;
            }
            term.fmt(f)?;
        }
        Ok(())
    }
}

/// One term of an `oslc.where` conjunction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SimpleTerm {
    /// `property op value`
    Comparison {
        /// The property compared.
        property: Property,
        /// The operator.
        op: ComparisonOp,
        /// The value.
        value: Value,
    },
    /// `property in [v1, v2, …]`
    In {
        /// The property compared.
        property: Property,
        /// The values, any of which matches.
        values: Vec<Value>,
    },
    /// `property{…}`: the terms hold for a value of the property.
    Scoped {
        /// The property whose values are tested.
        property: Property,
        /// The nested terms.
        terms: CompoundTerm,
    },
}

impl fmt::Display for SimpleTerm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Comparison { property, op, value } => write!(f, "{property}{}{value}", op.as_str()),
            Self::In { property, values } => {
                write!(f, "{property} in [")?;
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    value.fmt(f)?;
                }
                f.write_str("]")
            }
            Self::Scoped { property, terms } => write!(f, "{property}{{{terms}}}"),
        }
    }
}

/// One property of `oslc.select`, with the nested properties to include of its values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SelectTerm {
    /// The property, or `*`.
    pub property: Property,
    /// `{…}`: the properties of the values to include.
    pub nested: Option<Vec<SelectTerm>>,
}

/// Prints a list of select terms as `oslc.select` syntax.
#[derive(Debug, Clone, Copy)]
pub struct SelectList<'a>(pub &'a [SelectTerm]);

impl fmt::Display for SelectList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, term) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            term.property.fmt(f)?;
            if let Some(nested) = &term.nested {
                write!(f, "{{{}}}", SelectList(nested))?;
            }
        }
        Ok(())
    }
}

/// One sort key of `oslc.orderBy`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SortTerm {
    /// `+property` or `-property`.
    Key {
        /// `+` (ascending) or `-` (descending).
        ascending: bool,
        /// The property sorted on.
        property: PrefixedName,
    },
    /// `property{…}`: sort on properties of the property's value.
    Scoped {
        /// The property whose value holds the nested keys.
        property: PrefixedName,
        /// The nested keys.
        terms: Vec<SortTerm>,
    },
}

/// Prints a list of sort terms as `oslc.orderBy` syntax.
#[derive(Debug, Clone, Copy)]
pub struct SortList<'a>(pub &'a [SortTerm]);

impl fmt::Display for SortList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, term) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match term {
                SortTerm::Key { ascending, property } => write!(f, "{}{property}", if *ascending { '+' } else { '-' })?,
                SortTerm::Scoped { property, terms } => write!(f, "{property}{{{}}}", SortList(terms))?,
            }
        }
        Ok(())
    }
}

/// Prints search terms as `oslc.searchTerms` syntax.
#[derive(Debug, Clone, Copy)]
pub struct SearchTermList<'a>(pub &'a [String]);

impl fmt::Display for SearchTermList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, term) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "\"{}\"", escape(term, '"'))?;
        }
        Ok(())
    }
}
