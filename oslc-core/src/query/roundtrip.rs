//! Property test: printing any syntax tree and parsing it back gives the same tree.

use proptest::prelude::*;

use super::parse::Parser;
use super::{
    ComparisonOp, CompoundTerm, PrefixedName, Property, SearchTermList, SelectList, SelectTerm, SimpleTerm, SortList,
    SortTerm, Value,
};
use crate::rdf::Prefixes;
use crate::vocab::standard_prefixes;

fn prefixes() -> Prefixes {
    standard_prefixes().with("ex", "http://example.org/ns#").with("e2.x", "urn:x:")
}

fn name() -> impl Strategy<Value = PrefixedName> {
    (prop::sample::select(vec!["dcterms", "oslc_cm", "foaf", "ex", "e2.x", "xsd"]), "[a-zA-Z_][a-zA-Z0-9_-]{0,8}")
        .prop_map(|(prefix, local)| {
            let prefixes = prefixes();
            PrefixedName::new(prefix, &local, prefixes.get(prefix).unwrap_or_default())
                .unwrap_or_else(|| unreachable!())
        })
}

fn property() -> impl Strategy<Value = Property> {
    prop_oneof![1 => Just(Property::Wildcard), 6 => name().prop_map(Property::Name)]
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[a-z0-9/._~-]{0,12}"
            .prop_map(|p| Value::Iri(oxrdf::NamedNode::new_unchecked(format!("http://example.org/{p}")))),
        name().prop_map(Value::Name),
        ("\\PC{0,12}", prop::option::of("[a-z]{2,3}(-[A-Z]{2})?")).prop_map(|(value, language)| Value::String {
            value,
            language,
            datatype: None
        }),
        ("\\PC{0,12}", name()).prop_map(|(value, dt)| Value::String { value, language: None, datatype: Some(dt) }),
        any::<bool>().prop_map(Value::Boolean),
        "[+-]?[0-9]{1,6}".prop_map(Value::Integer),
        "[+-]?[0-9]{0,4}\\.[0-9]{1,4}".prop_map(Value::Decimal),
    ]
}

fn op() -> impl Strategy<Value = ComparisonOp> {
    prop::sample::select(vec![
        ComparisonOp::Eq,
        ComparisonOp::Ne,
        ComparisonOp::Lt,
        ComparisonOp::Gt,
        ComparisonOp::Le,
        ComparisonOp::Ge,
    ])
}

fn compound() -> impl Strategy<Value = CompoundTerm> {
    let leaf = prop_oneof![
        (property(), op(), value()).prop_map(|(property, op, value)| SimpleTerm::Comparison { property, op, value }),
        (property(), prop::collection::vec(value(), 1..4))
            .prop_map(|(property, values)| SimpleTerm::In { property, values }),
    ];
    let term = leaf.prop_recursive(3, 24, 4, |inner| {
        (property(), prop::collection::vec(inner, 1..4))
            .prop_map(|(property, terms)| SimpleTerm::Scoped { property, terms: CompoundTerm(terms) })
    });
    prop::collection::vec(term, 1..4).prop_map(CompoundTerm)
}

fn select() -> impl Strategy<Value = Vec<SelectTerm>> {
    let leaf = property().prop_map(|property| SelectTerm { property, nested: None });
    let term = leaf.prop_recursive(3, 24, 4, |inner| {
        (property(), prop::collection::vec(inner, 1..4))
            .prop_map(|(property, n)| SelectTerm { property, nested: Some(n) })
    });
    prop::collection::vec(term, 1..4)
}

fn sort() -> impl Strategy<Value = Vec<SortTerm>> {
    let leaf = (any::<bool>(), name()).prop_map(|(ascending, property)| SortTerm::Key { ascending, property });
    let term = leaf.prop_recursive(3, 24, 4, |inner| {
        (name(), prop::collection::vec(inner, 1..4)).prop_map(|(property, terms)| SortTerm::Scoped { property, terms })
    });
    prop::collection::vec(term, 1..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn where_prints_and_parses_back(ast in compound()) {
        let prefixes = prefixes();
        let text = ast.to_string();
        let parsed = Parser::new("oslc.where", &text, &prefixes).all(Parser::compound_term);
        prop_assert_eq!(parsed.ok(), Some(ast), "{}", text);
    }

    #[test]
    fn select_prints_and_parses_back(ast in select()) {
        let prefixes = prefixes();
        let text = SelectList(&ast).to_string();
        let parsed = Parser::new("oslc.select", &text, &prefixes).all(Parser::select_terms);
        prop_assert_eq!(parsed.ok(), Some(ast), "{}", text);
    }

    #[test]
    fn order_by_prints_and_parses_back(ast in sort()) {
        let prefixes = prefixes();
        let text = SortList(&ast).to_string();
        let parsed = Parser::new("oslc.orderBy", &text, &prefixes).all(Parser::sort_terms);
        prop_assert_eq!(parsed.ok(), Some(ast), "{}", text);
    }

    #[test]
    fn search_terms_print_and_parse_back(ast in prop::collection::vec("\\PC{0,12}", 1..5)) {
        let prefixes = prefixes();
        let text = SearchTermList(&ast).to_string();
        let parsed = Parser::new("oslc.searchTerms", &text, &prefixes).all(Parser::search_terms);
        prop_assert_eq!(parsed.ok(), Some(ast), "{}", text);
    }

    #[test]
    fn parsing_any_text_never_panics(text in "\\PC{0,40}") {
        let prefixes = prefixes();
        let _ = Parser::new("oslc.where", &text, &prefixes).all(Parser::compound_term);
        let _ = Parser::new("oslc.select", &text, &prefixes).all(Parser::select_terms);
        let _ = Parser::new("oslc.orderBy", &text, &prefixes).all(Parser::sort_terms);
    }
}
