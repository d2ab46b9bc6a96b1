//! `oslc.select`: the member's triples a projection keeps, nested selects following the values' own triples.

use std::collections::HashSet;

use oxrdf::{Graph, NamedOrBlankNodeRef, TermRef, TripleRef};

use super::filter::as_node;
use crate::Resource;
use crate::query::{Property, SelectTerm};
use crate::vocab::rdf;

/// Adds to `out` the triples of `resource` that `select` asks for (OSLC Query 3.0 § oslc.select): `*` is every
/// property; `p{…}` adds the nested properties of `p`'s values; blank-node values come with their own triples so
/// nothing dangles; `rdf:nil` alone selects nothing.
pub fn project(resource: &Resource, select: &[SelectTerm], out: &mut Graph) {
    let mut triples = Vec::new();
    project_refs(resource, select, &mut triples);
    for triple in triples {
        out.insert(triple);
    }
}

/// [`project`] without copying: appends the selected triples, borrowed from `resource`, to `out` (a triple can
/// appear more than once).
pub fn project_refs<'g>(resource: &'g Resource, select: &[SelectTerm], out: &mut Vec<TripleRef<'g>>) {
    let mut visited = HashSet::new();
    project_node(resource, resource.subject().into(), select, out, &mut visited);
}

pub(super) fn project_node<'g>(
    resource: &'g Resource,
    node: NamedOrBlankNodeRef<'g>,
    select: &[SelectTerm],
    out: &mut Vec<TripleRef<'g>>,
    visited: &mut HashSet<(NamedOrBlankNodeRef<'g>, usize)>,
) {
    // The same node reached again with the same select list adds nothing new; this also ends cycles.
    if !visited.insert((node, select.as_ptr() as usize)) {
        return;
    }
    for term in select {
        let triples: Vec<TripleRef<'g>> = match &term.property {
            Property::Wildcard => resource.triples_of(node).collect(),
            Property::Name(name) if name.iri() == rdf::nil => continue,
            Property::Name(name) => resource.triples_of(node).filter(|t| t.predicate == name.iri()).collect(),
        };
        for triple in triples {
            out.push(triple);
            match (&term.nested, as_node(triple.object)) {
                (Some(nested), Some(value)) => project_node(resource, value, nested, out, visited),
                (None, Some(value @ NamedOrBlankNodeRef::BlankNode(_))) => add_closure(resource, value, out, visited),
                _ => {}
            }
        }
    }
}

/// Adds every triple reachable from a blank node through blank nodes.
pub(super) fn add_closure<'g>(
    resource: &'g Resource,
    node: NamedOrBlankNodeRef<'g>,
    out: &mut Vec<TripleRef<'g>>,
    visited: &mut HashSet<(NamedOrBlankNodeRef<'g>, usize)>,
) {
    if !visited.insert((node, 0)) {
        return;
    }
    for triple in resource.triples_of(node) {
        out.push(triple);
        if let TermRef::BlankNode(b) = triple.object {
            add_closure(resource, b.into(), out, visited);
        }
    }
}
