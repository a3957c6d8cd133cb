#!/usr/bin/env bash
# Fuzzes the JSON API from its own description: Schemathesis (installed by `scripts/setup.sh
# test` into .tools/venv) reads GET /api/v1/openapi.json of a throwaway Headway and sends each
# operation requests made from it, valid and not, from the document's examples, its every
# constraint, at random, and in sequences that follow its links (all its phases), with all its
# checks: no answer is a 5xx; every answer's status, media type, headers and body are ones the
# document gives; a request the document forbids is refused, and one it allows is taken, but for
# the refusals that depend on what the server has (an id of nothing, a state that does not allow
# it: the 404s and 409s the document gives, which Schemathesis expects; the kinds it runs and
# what a cron field may hold: let through, each by name, in scripts/fuzz_hooks.py).
#
# The server runs with accounts, as an admin's write token (the hooks send it, but where the
# document opens an operation to anyone), so that every endpoint is reached past its sign-in; on
# loopback, with a database, files and site in a temporary directory that goes with it, and it
# is stopped whatever happens.
#
#   scripts/fuzz-api.sh                     the debug build, a few examples per operation
#   HEADWAY_BIN=target/release/headway FUZZ_EXAMPLES=100 FUZZ_SEED=$RANDOM scripts/fuzz-api.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bin="${HEADWAY_BIN:-target/debug/headway}"
examples="${FUZZ_EXAMPLES:-8}"
schemathesis=.tools/venv/bin/schemathesis
[ -x "$bin" ] || { echo "fuzz-api: no $bin (cargo build -p server --bin headway)" >&2; exit 1; }
[ -x "$schemathesis" ] || { echo "fuzz-api: no Schemathesis (scripts/setup.sh test)" >&2; exit 1; }

dir=$(mktemp -d)
server=""
stop() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap stop EXIT

export DATABASE_URL="sqlite://$dir/headway.db"
export HEADWAY_ADMIN_TOKEN="fuzz-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf 'fuzz-password-%s\n' "$RANDOM" | "$bin" users add fuzz --role admin --password-stdin >/dev/null
token=$("$bin" tokens create fuzzer --user fuzz --scope write | grep -o 'hw_[A-Za-z0-9_.-]*' | head -n 1)
[ -n "$token" ] || { echo "fuzz-api: no token was made" >&2; exit 1; }

port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
mkdir -p "$dir/site/pkg" "$dir/files" "$dir/store"
"$bin" --addr "127.0.0.1:$port" --auth accounts --site-root "$dir/site" \
  --data-root "$dir/files" --file-store "$dir/store" >"$dir/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  /usr/bin/python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
    "$base/readyz" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$dir/server.log" >&2; echo "fuzz-api: the server did not start" >&2; exit 1; }
  sleep 0.2
done

# The two event streams are left out: they answer 200 and then stay open (a job's until it
# ends), and Schemathesis reads a whole answer before checking it, so each request would wait
# for its timeout. Their refusals are the same code as the long poll's, which is fuzzed.
# The hooks keep the long poll from waiting its 25 s for events that never come.
# Schemathesis keeps what it found under its working directory: the temporary one.
status=0
(cd "$dir" && SCHEMATHESIS_HOOKS=fuzz_hooks PYTHONPATH="$root/scripts" HEADWAY_FUZZ_TOKEN="$token" \
  timeout --kill-after=10 240 "$root/$schemathesis" run "$base/api/v1/openapi.json" \
  --checks all --phases examples,coverage,fuzzing,stateful \
  --exclude-path /api/v1/events --exclude-path '/api/v1/jobs/{id}/events' \
  --max-examples "$examples" --seed "${FUZZ_SEED:-1}" --workers 2 --request-timeout 15 \
  --suppress-health-check all --generation-database none --no-color) || status=$?

if grep -q 'panicked' "$dir/server.log"; then
  grep -B2 -A10 'panicked' "$dir/server.log" >&2
  echo "fuzz-api: the server panicked" >&2
  status=1
fi
exit "$status"
