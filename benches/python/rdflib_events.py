"""The peer baseline: the same OSLC Event that benches/benches/events.rs serializes ("event to Turtle"), built and
serialized to Turtle with Python rdflib (what the original adapter used), timed the same way; prints both figures
and their ratio. Run by scripts/bench.sh after the Rust benchmarks (it reads criterion's estimate)."""

import json
import pathlib
import sys
import time

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, XSD

OSLC = Namespace("http://open-services.net/ns/core#")
OSLC_CM = Namespace("http://open-services.net/ns/cm#")
TRS = Namespace("http://open-services.net/ns/core/trs#")
EVENTS = Namespace("http://open-services.net/ns/events#")
ST2 = Namespace("https://w3id.org/st2-oslc/ns#")


def event_graph(n: int) -> Graph:
    """benches::change_request(n) plus the event node of sample_event(n)."""
    g = Graph()
    for prefix, ns in [("oslc", OSLC), ("oslc_cm", OSLC_CM), ("trs", TRS), ("oslc_events", EVENTS), ("dcterms", DCTERMS), ("xsd", XSD)]:
        g.bind(prefix, ns)
    r = URIRef(f"http://bench.test/serviceProviders/1/changeRequests/{n}")
    g.add((r, RDF.type, OSLC_CM.ChangeRequest))
    g.add((r, DCTERMS.identifier, Literal(str(n))))
    g.add((r, DCTERMS.title, Literal(f"Rule {n} fires twice")))
    g.add((r, DCTERMS.description, Literal("When the trigger arrives within 10 ms of the last one.")))
    g.add((r, DCTERMS.created, Literal(f"2026-{1 + n % 12:02}-{1 + n % 28:02}T10:00:00.123Z", datatype=XSD.dateTime)))
    g.add((r, OSLC_CM.closed, Literal("true" if n % 3 == 0 else "false", datatype=XSD.boolean)))
    g.add((r, OSLC_CM.status, Literal(["New", "In Progress", "Done"][n % 3])))
    g.add((r, OSLC_CM.severity, Literal(["low", "medium", "high", "critical"][n % 4])))
    priority = BNode()
    g.add((r, OSLC_CM.priority, priority))
    g.add((priority, DCTERMS.title, Literal("High")))
    for tag in ["st2", "rules", "ops"]:
        g.add((r, DCTERMS.subject, Literal(tag)))
    e = URIRef("urn:uuid:5b0c6f1e-8d4a-4f7b-9c3e-2a1d0e9f8b7c")
    g.add((e, RDF.type, TRS.Modification))
    g.add((e, RDF.type, EVENTS.Event))
    g.add((e, RDF.type, ST2.RuleDisabled))
    g.add((e, TRS.changed, r))
    g.add((e, TRS.order, Literal(n + 1, datatype=XSD.integer)))
    g.add((e, DCTERMS.created, Literal("2026-11-26T10:00:00.123Z", datatype=XSD.dateTime)))
    g.add((e, OSLC.serviceProvider, URIRef("http://bench.test/serviceProviders/1")))
    return g


def main() -> None:
    iterations = 2000
    for _ in range(200):  # warm up
        event_graph(7).serialize(format="turtle")
    start = time.perf_counter()
    for _ in range(iterations):
        event_graph(7).serialize(format="turtle")
    rdflib_us = (time.perf_counter() - start) / iterations * 1e6
    estimates = pathlib.Path(sys.argv[1]) / "events" / "event to Turtle" / "new" / "estimates.json"
    rust_us = json.loads(estimates.read_text())["mean"]["point_estimate"] / 1000
    print(f"event -> Turtle: oslc-events {rust_us:.1f} us, rdflib {rdflib_us:.1f} us per event: "
          f"oslc-events is {rdflib_us / rust_us:.1f}x faster")


if __name__ == "__main__":
    main()
