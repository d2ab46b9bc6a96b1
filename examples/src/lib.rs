//! Runnable examples of the st2-oslc libraries; each is a binary of this package.
//!
//! - `tracker`: a minimal OSLC adapter for a toy tool, an in-memory tracker of change requests, built with
//!   `oslc-core` alone. Copy it to start an adapter for a new tool: `cargo run -p examples --bin tracker`.
