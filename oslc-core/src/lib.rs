#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod actions;
#[cfg(feature = "client")]
pub mod client;
pub mod discovery;
mod error;
mod memory;
#[cfg(feature = "oidc")]
pub mod oauth;
pub mod provider;
pub mod query;
pub mod rdf;
pub mod resource;
#[cfg(feature = "server")]
pub mod server;
pub mod validate;
pub mod vocab;

pub use error::{Error, Result};
pub use memory::InMemoryProvider;
pub use provider::{Container, IfMatch, ResourceProvider};
pub use resource::{ETag, FromGraph, Resource, ToGraph};

/// The RDF model these APIs speak (oxigraph's `oxrdf`), re-exported so adapters use the same version.
pub use oxrdf;
