//! Shared fixtures for the workspace benchmarks.
