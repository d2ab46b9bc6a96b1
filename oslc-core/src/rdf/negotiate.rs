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
    // The common case, one of our media types alone, needs no parsing.
    if let Some(format) = offered.iter().find(|f| f.media_type().eq_ignore_ascii_case(accept)) {
        return Ok(*format);
    }
    let ranges: Vec<Range<'_>> =
        MediaTypeList::new(accept).filter_map(std::result::Result::ok).map(Range::new).collect();
    let mut best: Option<(RdfFormat, f32)> = None;
    for format in offered {
        // The most specific matching range decides this format's quality (RFC 9110 §12.5.1).
        let quality = ranges
            .iter()
            .filter_map(|range| range.specificity(*format).map(|s| (s, range.q)))
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
    let wants_rdf = ranges.iter().any(|range| range.q > 0.0 && is_rdf_media_type(&range.essence));
    match offered.first() {
        Some(first) if wants_rdf => Ok(*first),
        _ => Err(not_acceptable(accept, offered)),
    }
}

/// A media range of `Accept`, read once: its type, subtype, essence, the syntax it names and its quality.
struct Range<'a> {
    ty: &'a str,
    subty: &'a str,
    essence: String,
    named: Option<RdfFormat>,
    q: f32,
}

impl<'a> Range<'a> {
    fn new(range: MediaType<'a>) -> Self {
        let q = range.get_param(names::Q).and_then(|q| q.as_str().parse::<f32>().ok()).unwrap_or(1.0);
        let essence = range.essence().to_string();
        let named = RdfFormat::from_media_type(&essence);
        Self { ty: range.ty.as_str(), subty: range.subty.as_str(), essence, named, q: q.clamp(0.0, 1.0) }
    }

    /// How specifically this range names `format`: 4 for its own media type, 3 for another name of the syntax
    /// (such as `application/xml` for RDF/XML), 2 for `type/*`, 1 for `*/*`, `None` for no match. So
    /// `application/rdf+xml, text/turtle;q=0.9, application/xml;q=0.6` gives RDF/XML quality 1, not 0.6.
    fn specificity(&self, format: RdfFormat) -> Option<u8> {
        let format_ty = format.media_type().split('/').next().unwrap_or_default();
        if self.ty == "*" && self.subty == "*" {
            return Some(1);
        }
        if self.subty == "*" {
            return self.ty.eq_ignore_ascii_case(format_ty).then_some(2);
        }
        if self.essence.eq_ignore_ascii_case(format.media_type()) {
            return Some(4);
        }
        same_syntax(self.named?, format).then_some(3)
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
            let range = Range::new(range);
            range.specificity(format).map(|s| (s, range.q))
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
            let range = Range::new(range);
            range.specificity(format).map(|s| (s, range.q))
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
