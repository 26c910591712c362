#!/usr/bin/env bash
# Fuzz the HTTP APIs of a real daemon from its own /openapi.json with schemathesis (PyPI).
#
#   bench/schemathesis.sh [MAX_EXAMPLES]      (default 50 per operation; a few minutes on 2 cores)
#
# Starts `gateway serve` on a temporary config and database (127.0.0.1, a free port), makes a
# real API key (`gateway api-key add`), a real OAuth client (`gateway oauth-client add`) and a
# token from POST /oauth/token, creates a site for the client's dealer, then runs schemathesis
# three times, one per credential: /ext/v1 with the API key, /partner/v1 with the OAuth token,
# /oauth/token with none. Exit status: non-zero when any run found a failure.
# $SCHEMATHESIS names another schemathesis executable (default: .venv/bin/schemathesis, installed on
# first use).
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${1:-50}
py=.venv/bin/python
schemathesis=${SCHEMATHESIS:-$PWD/.venv/bin/schemathesis}
[ -n "${SCHEMATHESIS:-}" ] || [ -x "$schemathesis" ] || .venv/bin/pip install --quiet schemathesis

tmp=$(mktemp -d)
daemon=
cleanup() {
    if [ -n "$daemon" ]; then
        kill -TERM "$daemon" 2>/dev/null || true
        for _ in $(seq 100); do  # up to 10 s to drain, as under systemd
            kill -0 "$daemon" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$daemon" 2>/dev/null; then
            echo "gateway serve (pid $daemon) still running 10 s after SIGTERM: killed" >&2
            kill -KILL "$daemon" 2>/dev/null || true
        fi
        wait "$daemon" 2>/dev/null || true
    fi
    # Any gateway still serving this folder's database holds its lock: never delete the folder under one.
    if [ -e "$tmp/gateway.lock" ] && ! flock -n "$tmp/gateway.lock" true; then
        echo "a gateway still holds $tmp/gateway.lock; $tmp is left in place" >&2
        return
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

port=$($py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
cat > "$tmp/gateway.yaml" <<YAML
http: {port: $port, public_url: "$url"}
database: {url: "sqlite:///$tmp/gateway.sqlite3"}
keywords: $PWD/keywords.yaml
logging: {level: WARNING}
YAML
gw() { .venv/bin/gateway "$@" -c "$tmp/gateway.yaml"; }

gw migrate >/dev/null
api_key=$(gw api-key add --name schemathesis 2>/dev/null)
client=$(gw oauth-client add --dealer 12345 --name schemathesis 2>/dev/null)
client_id=$(sed -n 's/^client_id: //p' <<<"$client")
client_secret=$(sed -n 's/^client_secret: //p' <<<"$client")
# Started as a plain command, not through gw: a backgrounded shell function is a subshell, and $!
# would be the subshell's pid, so the kill in cleanup would miss the daemon.
.venv/bin/gateway serve -c "$tmp/gateway.yaml" >"$tmp/daemon.log" 2>&1 &
daemon=$!
for _ in $(seq 100); do
    curl -fsS "$url/healthz" >/dev/null 2>&1 && break
    kill -0 "$daemon" 2>/dev/null || { echo "gateway serve exited:" >&2; cat "$tmp/daemon.log" >&2; exit 1; }
    sleep 0.1
done
token=$(curl -fsS "$url/oauth/token" -u "$client_id:$client_secret" -d grant_type=client_credentials |
        $py -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
curl -fsS "$url/partner/v1/dealers/12345/sites" -H "Authorization: Bearer $token" \
     -H 'Content-Type: application/json' -d '{"name": "Fuzzed site"}' >/dev/null

# positive_data_acceptance is left out: it expects every schema-valid body to be accepted, but some
# checks cannot be written as JSON Schema and answer 422 naming the field, as they should: a phone
# number that is no possible number, an unknown IANA time zone, email_verification without an email,
# a welcome text for a contact without a phone.
status=0
run() {
    local name=$1
    shift
    echo "== $name"
    # run from the temporary folder: schemathesis keeps a .schemathesis/ cache in its working directory
    (cd "$tmp" && "$schemathesis" run "$url/openapi.json" --checks all --exclude-checks positive_data_acceptance --max-examples "$examples" --seed 5 \
        --request-timeout 10 --no-color "$@") || status=1
}
run "/ext/v1 (API key)" --include-path-regex '^/ext/v1/' -H "Authorization: Bearer $api_key"
run "/partner/v1 (OAuth token)" --include-path-regex '^/partner/v1/' -H "Authorization: Bearer $token"
run "/oauth/token" --include-path-regex '^/oauth/token$'
# aiohttp's own parser refuses schemathesis' malformed probes (NUL in a header) with a 400 and logs
# them as aiohttp.server errors; what counts here is an error of the gateway's own code.
if grep -q "ERROR gateway" "$tmp/daemon.log"; then
    echo "== the daemon logged errors:"
    grep -A20 "ERROR gateway" "$tmp/daemon.log" | head -80
    status=1
fi
exit $status
