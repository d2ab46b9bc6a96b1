#!/usr/bin/env bash
# The project's test command: installs and starts what the tests need, then runs every test of the workspace
# (unit, integration, examples, benches built as tests, doc tests). Usage: bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# oslc-core's default build must stay free of the HTTP, Kafka and MongoDB stacks.
heavy=$(cargo tree -p oslc-core -e normal --prefix none | grep -E '^(axum|hyper|reqwest|rdkafka|mongodb) ' || true)
if [ -n "$heavy" ]; then
    echo "oslc-core's default dependencies include: $heavy" >&2
    exit 1
fi

# The independent OSLC clients of the interop tests (npm oslc-client, PyPI oslc4py-client) and the OpenID provider
# of the auth tests (npm oidc-provider), pinned, into interop/.
bash scripts/interop.sh
. scripts/services.sh
# Headless Chromium and ChromeDriver for the browser tests (adapter-stackstorm/tests/browser.rs).
bash scripts/browser.sh

cargo test --workspace --all-targets --all-features
cargo test --workspace --doc --all-features
