#!/usr/bin/env bash
# Installs the independent OSLC clients that adapter-stackstorm/tests/interop.rs drives against st2-oslc, pinned:
# npm oslc-client (interop/package-lock.json) into interop/node_modules, and PyPI oslc4py-client
# (interop/requirements.txt, with the CloudEvents SDK oslc-events/tests/kafka.rs reads records with) into the
# virtualenv interop/.venv. Needs node/npm and python3 (with venv).
# Idempotent: skips what is already installed at the pinned versions. Usage: bash scripts/interop.sh
set -euo pipefail
cd "$(dirname "$0")/../interop"

if ! cmp -s package-lock.json node_modules/.installed-lock.json 2>/dev/null; then
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json node_modules/.installed-lock.json
fi

if [ ! -x .venv/bin/python ] || ! cmp -s requirements.txt .venv/.installed-requirements.txt; then
    rm -rf .venv
    python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
    cp requirements.txt .venv/.installed-requirements.txt
fi
echo "interop clients: oslc-client $(node -p 'require("./node_modules/oslc-client/package.json").version')," \
    "$(.venv/bin/python -m pip freeze --quiet | grep -x 'oslc4py-client==.*')" >&2
