//! A recursive-descent parser for the OSLC Query 3.0 parameter grammars (§ oslc.where, oslc.select, oslc.orderBy,
//! oslc.searchTerms, and oslc.prefix of OSLC Core 3.0). Errors name the parameter and the 0-based character position.

use oxrdf::NamedNode;

use super::ast::{ComparisonOp, CompoundTerm, PrefixedName, Property, SelectTerm, SimpleTerm, SortTerm, Value};
use crate::rdf::Prefixes;
use crate::{Error, Result};

/// Nesting deeper than this is refused, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 32;

pub(super) struct Parser<'a> {
    text: &'a str,
    pos: usize,
    parameter: &'static str,
    prefixes: &'a Prefixes,
    depth: usize,
}

impl<'a> Parser<'a> {
    pub(super) fn new(parameter: &'static str, text: &'a str, prefixes: &'a Prefixes) -> Self {
        Self { text, pos: 0, parameter, prefixes, depth: 0 }
    }

    fn error_at(&self, byte: usize, message: impl Into<String>) -> Error {
        let position = self.text[..byte.min(self.text.len())].chars().count();
        Error::InvalidQuery { parameter: self.parameter.to_owned(), position, message: message.into() }
    }

    fn error(&self, message: impl Into<String>) -> Error {
        self.error_at(self.pos, message)
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<()> {
        if self.eat(c) { Ok(()) } else { Err(self.error(format!("expected '{c}'{}", self.found()))) }
    }

    fn found(&self) -> String {
        match self.peek() {
            Some(c) => format!(", found '{c}'"),
            None => ", found the end".to_owned(),
        }
    }

    fn skip_spaces(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.pos += 1;
        }
        self.pos > start
    }

    fn end(&mut self) -> Result<()> {
        self.skip_spaces();
        if self.pos == self.text.len() { Ok(()) } else { Err(self.error(format!("unexpected '{}'", self.rest()))) }
    }

    fn nest(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH { Err(self.error(format!("nesting deeper than {MAX_DEPTH} levels"))) } else { Ok(()) }
    }

    /// `compound_term ::= simple_term (space? "and" space? simple_term)*`
    pub(super) fn compound_term(&mut self) -> Result<CompoundTerm> {
        let mut terms = vec![self.simple_term()?];
        loop {
            let before = self.pos;
            self.skip_spaces();
            let rest = self.rest();
            if rest.starts_with("and") && !rest[3..].starts_with(|c: char| is_name_char(c) || c == ':') {
                self.pos += 3;
                self.skip_spaces();
                terms.push(self.simple_term()?);
            } else {
                self.pos = before;
                return Ok(CompoundTerm(terms));
            }
        }
    }

    /// `simple_term ::= term | scoped_term`
    fn simple_term(&mut self) -> Result<SimpleTerm> {
        self.skip_spaces();
        let property = self.property()?;
        let after_property = self.pos;
        let spaced = self.skip_spaces();
        if self.eat('{') {
            self.nest()?;
            let terms = self.compound_term()?;
            self.skip_spaces();
            self.expect('}')?;
            self.depth -= 1;
            return Ok(SimpleTerm::Scoped { property, terms });
        }
        let rest = self.rest();
        if spaced && rest.starts_with("in") && !rest[2..].starts_with(|c: char| is_name_char(c) || c == ':') {
            self.pos += 2;
            self.skip_spaces();
            self.expect('[')?;
            let mut values = Vec::new();
            loop {
                self.skip_spaces();
                values.push(self.value()?);
                self.skip_spaces();
                if self.eat(']') {
                    break;
                }
                self.expect(',')?;
            }
            return Ok(SimpleTerm::In { property, values });
        }
        let op = self.comparison_op().ok_or_else(|| {
            self.error_at(after_property, "expected a comparison operator (= != < > <= >=), ' in [', or '{'")
        })?;
        self.skip_spaces();
        let value = self.value()?;
        Ok(SimpleTerm::Comparison { property, op, value })
    }

    fn comparison_op(&mut self) -> Option<ComparisonOp> {
        let rest = self.rest();
        let (op, len) = if rest.starts_with("!=") {
            (ComparisonOp::Ne, 2)
        } else if rest.starts_with("<=") {
            (ComparisonOp::Le, 2)
        } else if rest.starts_with(">=") {
            (ComparisonOp::Ge, 2)
        } else if rest.starts_with('=') {
            (ComparisonOp::Eq, 1)
        } else if rest.starts_with('<') {
            (ComparisonOp::Lt, 1)
        } else if rest.starts_with('>') {
            (ComparisonOp::Gt, 1)
        } else {
            return None;
        };
        self.pos += len;
        Some(op)
    }

    /// `identifier_wc ::= PrefixedName | "*"`
    fn property(&mut self) -> Result<Property> {
        if self.eat('*') { Ok(Property::Wildcard) } else { self.prefixed_name().map(Property::Name) }
    }

    /// `PrefixedName ::= PN_PREFIX? ":" PN_LOCAL` (SPARQL 1.1 §19.8, without `%` escapes).
    pub(super) fn prefixed_name(&mut self) -> Result<PrefixedName> {
        let start = self.pos;
        let prefix = self.pn_prefix();
        if !self.eat(':') {
            return Err(self.error_at(start, format!("expected a prefixed name such as dcterms:title{}", self.found())));
        }
        let local_start = self.pos;
        while let Some(c) = self.peek() {
            if is_name_char(c) || c == ':' || (c == '.' && self.rest()[1..].starts_with(|n: char| is_name_char(n))) {
                self.bump();
            } else {
                break;
            }
        }
        let local = &self.text[local_start..self.pos];
        let namespace = self
            .prefixes
            .get(prefix)
            .ok_or_else(|| self.error_at(start, format!("unknown prefix '{prefix}' (define it with oslc.prefix)")))?;
        PrefixedName::new(prefix, local, namespace)
            .ok_or_else(|| self.error_at(start, format!("{prefix}:{local} does not make a valid IRI")))
    }

    fn pn_prefix(&mut self) -> &'a str {
        let start = self.pos;
        if self.peek().is_some_and(char::is_alphabetic) {
            while let Some(c) = self.peek() {
                if is_name_char(c) || (c == '.' && self.rest()[1..].starts_with(|n: char| is_name_char(n))) {
                    self.bump();
                } else {
                    break;
                }
            }
        }
        &self.text[start..self.pos]
    }

    /// `value ::= uri_ref_esc | PrefixedName | literal_value`
    fn value(&mut self) -> Result<Value> {
        let start = self.pos;
        match self.peek() {
            Some('<') => Ok(Value::Iri(self.uri_ref()?)),
            Some('"') => {
                let value = self.string()?;
                if self.eat('@') {
                    let tag_start = self.pos;
                    while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '-') {
                        self.bump();
                    }
                    let tag = &self.text[tag_start..self.pos];
                    if !is_language_tag(tag) {
                        return Err(self.error_at(tag_start, format!("invalid language tag '{tag}'")));
                    }
                    return Ok(Value::String { value, language: Some(tag.to_owned()), datatype: None });
                }
                if self.rest().starts_with("^^") {
                    self.pos += 2;
                    let datatype = self.prefixed_name()?;
                    return Ok(Value::String { value, language: None, datatype: Some(datatype) });
                }
                Ok(Value::String { value, language: None, datatype: None })
            }
            Some(c) if c.is_ascii_digit() || matches!(c, '+' | '-' | '.') => self.number(),
            Some(_) => {
                for (word, b) in [("true", true), ("false", false)] {
                    let rest = self.rest();
                    if rest.starts_with(word) && !rest[word.len()..].starts_with(|c: char| is_name_char(c) || c == ':')
                    {
                        self.pos += word.len();
                        return Ok(Value::Boolean(b));
                    }
                }
                self.prefixed_name().map(Value::Name).map_err(|_| {
                    self.error_at(start, "expected a value: <iri>, prefix:name, \"string\", a number, true or false")
                })
            }
            None => Err(self.error("expected a value, found the end")),
        }
    }

    /// An xsd:integer or xsd:decimal lexical form.
    fn number(&mut self) -> Result<Value> {
        let start = self.pos;
        if matches!(self.peek(), Some('+' | '-')) {
            self.bump();
        }
        let int_start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
        let int_digits = self.pos - int_start;
        let mut decimal = false;
        if self.peek() == Some('.') && self.rest()[1..].starts_with(|c: char| c.is_ascii_digit()) {
            decimal = true;
            self.bump();
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
            }
        }
        if int_digits == 0 && !decimal {
            return Err(self.error_at(start, "expected a number"));
        }
        let lexical = self.text[start..self.pos].to_owned();
        Ok(if decimal { Value::Decimal(lexical) } else { Value::Integer(lexical) })
    }

    /// `uri_ref_esc`: `<…>` with `\>` and `\\` escapes; the IRI must be absolute.
    pub(super) fn uri_ref(&mut self) -> Result<NamedNode> {
        let start = self.pos;
        self.expect('<')?;
        let iri = self.delimited('>', start)?;
        NamedNode::new(&iri).map_err(|e| self.error_at(start, format!("invalid IRI <{iri}>: {e}")))
    }

    /// `string_esc`: `"…"` with `\"` and `\\` escapes.
    pub(super) fn string(&mut self) -> Result<String> {
        let start = self.pos;
        self.expect('"')?;
        self.delimited('"', start)
    }

    /// The text up to the unescaped `close`; an error names `open`, where the delimited text began.
    fn delimited(&mut self, close: char, open: usize) -> Result<String> {
        let mut out = String::new();
        loop {
            let at = self.pos;
            match self.bump() {
                None => return Err(self.error_at(open, format!("missing closing '{close}'"))),
                Some(c) if c == close => return Ok(out),
                Some('\\') => match self.bump() {
                    Some(c) if c == close || c == '\\' => out.push(c),
                    _ => return Err(self.error_at(at, format!("'\\' must be followed by '\\' or '{close}'"))),
                },
                Some(c) => out.push(c),
            }
        }
    }

    /// `properties ::= property ("," property)*`, `property ::= identifier_wc ("{" properties "}")?`
    pub(super) fn select_terms(&mut self) -> Result<Vec<SelectTerm>> {
        let mut terms = Vec::new();
        loop {
            self.skip_spaces();
            let property = self.property()?;
            self.skip_spaces();
            let nested = if self.eat('{') {
                self.nest()?;
                let nested = self.select_terms()?;
                self.skip_spaces();
                self.expect('}')?;
                self.depth -= 1;
                Some(nested)
            } else {
                None
            };
            terms.push(SelectTerm { property, nested });
            self.skip_spaces();
            if !self.eat(',') {
                return Ok(terms);
            }
        }
    }

    /// `sort_terms ::= sort_term ("," sort_term)*`; a space where `+` belongs is taken as `+`, since form
    /// decoding turns an unencoded `+` into a space.
    pub(super) fn sort_terms(&mut self) -> Result<Vec<SortTerm>> {
        let mut terms = Vec::new();
        loop {
            let term = match self.peek() {
                Some('+' | ' ') => {
                    self.bump();
                    SortTerm::Key { ascending: true, property: self.prefixed_name()? }
                }
                Some('-') => {
                    self.bump();
                    SortTerm::Key { ascending: false, property: self.prefixed_name()? }
                }
                _ => {
                    let property = self.prefixed_name().map_err(|_| {
                        self.error("expected '+' or '-' and a property, or a property and '{'".to_owned())
                    })?;
                    self.expect('{')?;
                    self.nest()?;
                    let terms = self.sort_terms()?;
                    self.expect('}')?;
                    self.depth -= 1;
                    SortTerm::Scoped { property, terms }
                }
            };
            terms.push(term);
            if !self.eat(',') {
                return Ok(terms);
            }
        }
    }

    /// `search_terms ::= string_esc ("," string_esc)*`
    pub(super) fn search_terms(&mut self) -> Result<Vec<String>> {
        let mut terms = Vec::new();
        loop {
            self.skip_spaces();
            terms.push(self.string()?);
            self.skip_spaces();
            if !self.eat(',') {
                return Ok(terms);
            }
        }
    }

    /// `prefix_defs ::= prefix_def ("," prefix_def)*`, `prefix_def ::= PN_PREFIX "=" uri_ref_esc`
    pub(super) fn prefix_definitions(&mut self) -> Result<Vec<(String, NamedNode)>> {
        let mut definitions = Vec::new();
        loop {
            self.skip_spaces();
            let start = self.pos;
            let prefix = self.pn_prefix();
            if prefix.is_empty() {
                return Err(self.error_at(start, "expected a prefix such as dcterms"));
            }
            self.expect('=')?;
            let iri = self.uri_ref()?;
            definitions.push((prefix.to_owned(), iri));
            self.skip_spaces();
            if !self.eat(',') {
                return Ok(definitions);
            }
        }
    }

    /// Parses all of the text with `rule`.
    pub(super) fn all<T>(mut self, rule: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if self.text.trim().is_empty() {
            return Err(self.error("empty value"));
        }
        let value = rule(&mut self)?;
        self.end()?;
        Ok(value)
    }
}

/// PN_CHARS of SPARQL, less the rarely used combining ranges.
fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '\u{B7}')
}

/// `LANGTAG ::= [a-zA-Z]+ ('-' [a-zA-Z0-9]+)*`
fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    parts.next().is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphabetic()))
        && parts.all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()))
}
