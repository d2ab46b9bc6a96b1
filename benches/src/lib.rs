//! Shared fixtures for the workspace benchmarks.

use oslc_core::Resource;
use oslc_core::oxrdf::{BlankNode, Literal, NamedNode};
use oslc_core::vocab::{dcterms, oslc_cm, xsd};

/// A change request with a dozen properties and a nested node, the size of a typical OSLC resource.
#[must_use]
pub fn change_request(n: usize) -> Resource {
    let mut r =
        Resource::new(NamedNode::new_unchecked(format!("http://bench.test/serviceProviders/1/changeRequests/{n}")));
    r.add_type(oslc_cm::ChangeRequest);
    r.insert(dcterms::identifier, &Literal::new_simple_literal(n.to_string()));
    r.insert(dcterms::title, &Literal::new_simple_literal(format!("Rule {n} fires twice")));
    r.insert(
        dcterms::description,
        &Literal::new_simple_literal("When the trigger arrives within 10 ms of the last one."),
    );
    let created = format!("2026-{:02}-{:02}T10:00:00.123Z", 1 + n % 12, 1 + n % 28);
    r.insert(dcterms::created, &Literal::new_typed_literal(created, xsd::dateTime));
    r.insert(
        oslc_cm::closed,
        &Literal::new_typed_literal(if n.is_multiple_of(3) { "true" } else { "false" }, xsd::boolean),
    );
    r.insert(oslc_cm::status, &Literal::new_simple_literal(["New", "In Progress", "Done"][n % 3]));
    r.insert(oslc_cm::severity, &Literal::new_simple_literal(["low", "medium", "high", "critical"][n % 4]));
    let priority = BlankNode::default();
    r.insert(oslc_cm::priority, &priority);
    r.graph_mut().insert(oslc_core::oxrdf::TripleRef::new(
        &priority,
        dcterms::title,
        &Literal::new_simple_literal("High"),
    ));
    for tag in ["st2", "rules", "ops"] {
        r.insert(dcterms::subject, &Literal::new_simple_literal(tag));
    }
    r
}

/// A rule to POST to `st2-oslc` as Turtle, titled `title` (also its webhook's URL, so each is its own).
#[must_use]
pub fn rule_turtle(title: &str) -> String {
    format!(
        "<> <http://purl.org/dc/terms/title> \"{title}\" ; <https://w3id.org/st2-oslc/ns#pack> \"bench\" ; <https://w3id.org/st2-oslc/ns#triggerType> \"core.st2.webhook\" ; <https://w3id.org/st2-oslc/ns#triggerParameters> \"{{\\\"url\\\": \\\"{title}\\\"}}\"^^<http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON> ; <https://w3id.org/st2-oslc/ns#actionRef> \"core.local\" ."
    )
}

/// The resident set size of process `pid` in MB (Linux `/proc`; 0 elsewhere).
#[must_use]
pub fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}
