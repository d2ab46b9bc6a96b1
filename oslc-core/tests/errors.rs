//! Each error kind maps to its HTTP status and an `oslc:Error` body with that status and the message.
#![allow(missing_docs, clippy::unwrap_used)]

use oslc_core::Error;
use oslc_core::oxrdf::TermRef;
use oslc_core::vocab::{oslc, rdf};

#[test]
fn error_kinds_map_to_statuses_and_oslc_error_bodies() {
    let table: Vec<(Error, u16, &str)> = vec![
        (Error::not_found("http://t/crs/9"), 404, "http://t/crs/9"),
        (Error::Conflict { message: "rule core.x exists".into() }, 409, "core.x"),
        (
            Error::PreconditionFailed {
                resource: "http://t/crs/1".into(),
                expected: "\"a\"".into(),
                current: "\"b\"".into(),
            },
            412,
            "http://t/crs/1",
        ),
        (Error::bad_request("PUT requires If-Match"), 400, "If-Match"),
        (Error::InvalidResource { message: "missing dcterms:title".into() }, 400, "dcterms:title"),
        (
            Error::InvalidQuery { parameter: "oslc.where".into(), position: 7, message: "expected ]".into() },
            400,
            "position 7",
        ),
        (
            Error::Syntax { format: "Turtle".into(), line: Some(3), column: Some(9), message: "bad".into() },
            400,
            "line 3, column 9",
        ),
        (Error::UnsupportedMediaType { media_type: "text/html".into() }, 415, "text/html"),
        (Error::NotAcceptable { accept: "image/png".into(), offered: "text/turtle".into() }, 406, "image/png"),
        (Error::PayloadTooLarge { limit: 10 }, 413, "10 bytes"),
        (Error::Unauthorized { message: "missing bearer token".into() }, 401, "bearer"),
        (Error::MethodNotAllowed { method: "PATCH".into(), resource: "http://t/x".into() }, 405, "PATCH"),
        (Error::Unavailable { service: "StackStorm".into(), message: "connection refused".into() }, 502, "StackStorm"),
        (Error::backend("disk full", std::io::Error::other("ENOSPC")), 500, "disk full"),
    ];
    for (error, status, needle) in table {
        assert_eq!(error.status(), status, "{error}");
        let message = error.to_string();
        assert!(message.contains(needle), "{message:?} should name {needle:?}");
        let graph = error.to_graph();
        let node = graph.subject_for_predicate_object(rdf::r#type, oslc::Error).unwrap();
        let literal = |p| match graph.object_for_subject_predicate(node, p) {
            Some(TermRef::Literal(l)) => l.value().to_owned(),
            other => panic!("{other:?}"),
        };
        assert_eq!(literal(oslc::statusCode), status.to_string());
        assert_eq!(literal(oslc::message), message);
    }
}
