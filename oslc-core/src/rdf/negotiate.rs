//! Content negotiation: the syntax of an answer from `Accept`, of a body from `Content-Type`.

use mediatype::{MediaType, MediaTypeList, ReadParams, names};

use super::{FORMATS, RdfFormat, same_syntax};
use crate::{Error, Result};

/// The media types of [`FORMATS`], comma separated, as for `Accept-Post`.
#[must_use]
pub fn media_types() -> String {
    FORMATS.iter().map(|f| f.media_type()).collect::<Vec<_>>().join(", ")
}

/// Chooses the syntax of a response from an `Accept` header among [`FORMATS`].
///
/// Follows RFC 9110 §12.5.1: q-values, `type/*` and `*/*` wildcards, the most specific range deciding a type's
/// quality, `q=0` excluding. Ties go to the earlier entry of [`FORMATS`], so `*/*` and a missing or empty header give
/// Turtle. Malformed ranges in the header are skipped.
///
/// # Errors
/// [`Error::NotAcceptable`] when no offered syntax is acceptable.
pub fn negotiate(accept: Option<&str>) -> Result<RdfFormat> {
    negotiate_among(accept, &FORMATS)
}

/// [`negotiate`] among the given syntaxes, preferring earlier ones on a tie.
///
/// # Errors
/// [`Error::NotAcceptable`] when no offered syntax is acceptable.
pub fn negotiate_among(accept: Option<&str>, offered: &[RdfFormat]) -> Result<RdfFormat> {
    let Some(accept) = accept.map(str::trim).filter(|a| !a.is_empty()) else {
        return offered.first().copied().ok_or_else(|| not_acceptable("", offered));
    };
    let ranges: Vec<(MediaType<'_>, f32)> = MediaTypeList::new(accept)
        .filter_map(std::result::Result::ok)
        .map(|range| {
            let q = range.get_param(names::Q).and_then(|q| q.as_str().parse::<f32>().ok()).unwrap_or(1.0);
            (range, q.clamp(0.0, 1.0))
        })
        .collect();
    let mut best: Option<(RdfFormat, f32)> = None;
    for format in offered {
        // The most specific matching range decides this format's quality (RFC 9110 §12.5.1).
        let quality = ranges
            .iter()
            .filter_map(|(range, q)| range_specificity(range, *format).map(|s| (s, *q)))
            .max_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.total_cmp(&b.1)))
            .map(|(_, q)| q);
        if let Some(q) = quality.filter(|q| *q > 0.0)
            && best.is_none_or(|(_, best_q)| q > best_q)
        {
            best = Some((*format, q));
        }
    }
    if let Some((format, _)) = best {
        return Ok(format);
    }
    // Core 3.0: a client that asks only for RDF syntaxes the server lacks gets RDF in one it has (406 is for
    // clients that want no RDF at all).
    let wants_rdf = ranges.iter().any(|(range, q)| *q > 0.0 && is_rdf_media_type(&range.essence().to_string()));
    match offered.first() {
        Some(first) if wants_rdf => Ok(*first),
        _ => Err(not_acceptable(accept, offered)),
    }
}

/// Whether an `Accept` header lets `format` be answered: no header, or one whose most specific range matching
/// `format` has a quality above 0.
///
/// ```
/// use oslc_core::rdf::{RdfFormat, accepts};
/// assert!(accepts(Some("text/turtle, application/*;q=0.5"), RdfFormat::RdfXml));
/// assert!(!accepts(Some("text/turtle"), RdfFormat::RdfXml));
/// assert!(!accepts(Some("*/*, application/rdf+xml;q=0"), RdfFormat::RdfXml));
/// ```
#[must_use]
pub fn accepts(accept: Option<&str>, format: RdfFormat) -> bool {
    let Some(accept) = accept.map(str::trim).filter(|a| !a.is_empty()) else {
        return true;
    };
    MediaTypeList::new(accept)
        .filter_map(std::result::Result::ok)
        .filter_map(|range| {
            let q = range.get_param(names::Q).and_then(|q| q.as_str().parse::<f32>().ok()).unwrap_or(1.0);
            range_specificity(&range, format).map(|s| (s, q))
        })
        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.total_cmp(&b.1)))
        .is_some_and(|(_, q)| q > 0.0)
}

/// The quality an `Accept` header gives `format`: that of its most specific range matching it (RFC 9110
/// §12.5.1), 0 when none matches or there is no header.
#[cfg(feature = "server")]
pub(crate) fn quality(accept: Option<&str>, format: RdfFormat) -> f32 {
    let Some(accept) = accept.map(str::trim).filter(|a| !a.is_empty()) else {
        return 0.0;
    };
    MediaTypeList::new(accept)
        .filter_map(std::result::Result::ok)
        .filter_map(|range| {
            let q = range.get_param(names::Q).and_then(|q| q.as_str().parse::<f32>().ok()).unwrap_or(1.0);
            range_specificity(&range, format).map(|s| (s, q.clamp(0.0, 1.0)))
        })
        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.total_cmp(&b.1)))
        .map_or(0.0, |(_, q)| q)
}

/// Whether `essence` names an RDF syntax, ours or not (TriG, N-Quads, N3, RDF/JSON, older Turtle names).
fn is_rdf_media_type(essence: &str) -> bool {
    const OTHERS: [&str; 9] = [
        "application/trig",
        "application/n-quads",
        "text/n3",
        "text/rdf+n3",
        "application/n3",
        "application/rdf+json",
        "application/x-turtle",
        "text/x-nquads",
        "application/x-trig",
    ];
    RdfFormat::from_media_type(essence).is_some() || OTHERS.iter().any(|t| t.eq_ignore_ascii_case(essence))
}

/// How specifically `range` names `format`: 4 for its own media type, 3 for another name of the syntax (such as
/// `application/xml` for RDF/XML), 2 for `type/*`, 1 for `*/*`, `None` for no match. So
/// `application/rdf+xml, text/turtle;q=0.9, application/xml;q=0.6` gives RDF/XML quality 1, not 0.6.
fn range_specificity(range: &MediaType<'_>, format: RdfFormat) -> Option<u8> {
    let (ty, subty) = (range.ty.as_str(), range.subty.as_str());
    let format_ty = format.media_type().split('/').next().unwrap_or_default();
    if ty == "*" && subty == "*" {
        return Some(1);
    }
    if subty == "*" {
        return ty.eq_ignore_ascii_case(format_ty).then_some(2);
    }
    let essence = range.essence().to_string();
    if essence.eq_ignore_ascii_case(format.media_type()) {
        return Some(4);
    }
    let named = RdfFormat::from_media_type(&essence)?;
    same_syntax(named, format).then_some(3)
}

fn not_acceptable(accept: &str, offered: &[RdfFormat]) -> Error {
    Error::NotAcceptable {
        accept: accept.to_owned(),
        offered: offered.iter().map(|f| f.media_type()).collect::<Vec<_>>().join(", "),
    }
}

/// The syntax of a request body from its `Content-Type`.
///
/// # Errors
/// [`Error::UnsupportedMediaType`] when the header is missing or names no syntax of [`FORMATS`].
pub fn content_type_format(content_type: Option<&str>) -> Result<RdfFormat> {
    let unsupported = || Error::UnsupportedMediaType { media_type: content_type.unwrap_or("(none)").to_owned() };
    let media_type = MediaType::parse(content_type.ok_or_else(unsupported)?.trim()).map_err(|_| unsupported())?;
    let format = RdfFormat::from_media_type(&media_type.essence().to_string()).ok_or_else(unsupported)?;
    FORMATS.iter().copied().find(|f| same_syntax(*f, format)).ok_or_else(unsupported)
}
