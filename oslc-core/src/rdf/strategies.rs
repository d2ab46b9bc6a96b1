//! Proptest strategies shared by the writers' round-trip tests: triples drawn from lists of IRIs, lexical forms,
//! datatypes and blank node ids that each test chooses for what it exercises.
#![allow(clippy::unwrap_used)]

use oxrdf::{BlankNode, Literal, NamedNode, NamedOrBlankNode, Term, Triple};
use proptest::prelude::*;

/// What triples are made of.
pub(super) struct Vocabulary {
    /// IRIs for subjects and objects.
    pub nodes: &'static [&'static str],
    /// IRIs for predicates.
    pub predicates: &'static [&'static str],
    /// Lexical forms, each tried with every datatype and as language-tagged strings.
    pub lexicals: &'static [&'static str],
    /// Datatype IRIs.
    pub datatypes: &'static [&'static str],
    /// Blank node ids, for subjects and objects.
    pub blanks: &'static [&'static str],
}

fn named(iris: &'static [&'static str]) -> impl Strategy<Value = NamedNode> + Clone {
    prop::sample::select(iris).prop_map(|iri| NamedNode::new(iri).unwrap())
}

fn literal(v: &Vocabulary) -> impl Strategy<Value = Literal> + Clone {
    let lexical = prop::sample::select(v.lexicals);
    prop_oneof![
        (lexical.clone(), prop::sample::select(v.datatypes))
            .prop_map(|(lexical, d)| Literal::new_typed_literal(lexical, NamedNode::new(d).unwrap())),
        (lexical, prop::sample::select(&["en", "de-CH"][..]))
            .prop_map(|(lexical, l)| Literal::new_language_tagged_literal(lexical, l).unwrap()),
    ]
}

/// One triple of `v`.
pub(super) fn triple(v: &Vocabulary) -> impl Strategy<Value = Triple> {
    let blank = prop::sample::select(v.blanks).prop_map(|id| BlankNode::new(id).unwrap());
    let subject = prop_oneof![named(v.nodes).prop_map(NamedOrBlankNode::from), blank.clone().prop_map(Into::into)];
    let object =
        prop_oneof![named(v.nodes).prop_map(Term::from), literal(v).prop_map(Term::from), blank.prop_map(Term::from)];
    (subject, named(v.predicates), object).prop_map(|(s, p, o)| Triple::new(s, p, o))
}
