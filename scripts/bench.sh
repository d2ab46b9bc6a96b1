#!/usr/bin/env bash
# Runs every benchmark: criterion micro-benchmarks and the HTTP load on the running st2-oslc --demo.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p adapter-stackstorm --bin st2-oslc
cargo bench -p benches "$@"
