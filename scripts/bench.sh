#!/usr/bin/env bash
# Runs every benchmark: criterion micro-benchmarks, HTTP load on the running st2-oslc --demo, and the Python
# rdflib baseline for event serialization (installed into target/bench-venv from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin st2-oslc --bin fake-st2
cargo bench -p benches "$@"
if [ ! -x target/bench-venv/bin/python ]; then
    python3 -m venv target/bench-venv
    target/bench-venv/bin/pip install --quiet --disable-pip-version-check rdflib==7.1.4
fi
target/bench-venv/bin/python benches/python/rdflib_events.py target/criterion
