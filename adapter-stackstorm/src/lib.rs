//! The StackStorm OSLC adapter: StackStorm rules served as OSLC resources, and rule changes as OSLC Events.
//!
//! This crate is being built up; the binary `st2-oslc` will call [`run`].

/// The adapter's version, as reported by `st2-oslc --version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Runs the adapter until shutdown (not yet wired: prints the version).
pub fn run() {
    println!("st2-oslc {VERSION}");
}
