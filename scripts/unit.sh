#!/usr/bin/env bash
# The Rust tests (the lints are scripts/lint.sh): the unit and integration tests on SQLite (the
# tests of real processes, with several on PostgreSQL and nginx in front, apart from the
# in-process ones), and the unit and in-process integration tests again on PostgreSQL.
# The two passes run side by side, each with its own log under target/unit-logs/, shown whole
# once both have ended: they spend most of their time waiting on servers, databases and clocks,
# not on the CPU. Both are built first, once (the same crates and features).
#   scripts/unit.sh          the tests
#   scripts/unit.sh --build  only the test build
set -uo pipefail
cd "$(dirname "$0")/.."

crates=(-p model -p store-core -p store-sqlite -p store-postgres -p engine -p app -p server -p bench)
features=(--features app/ssr)
logs=target/unit-logs
# The integration tests that run real `headway` processes (server/tests/it: cluster, proxy,
# process) run on their own, after the others.
processes=(cluster:: proxy:: process::)
skip_processes=(--skip cluster:: --skip proxy:: --skip process::)

# The test build: every crate's tests, and the binaries they run (target/debug/headway, which
# the browser tests drive too, and target/debug/headway-bench, which `make bench-smoke` runs).
build() {
  cargo test "${crates[@]}" "${features[@]}" --no-run
}
if [ "${1:-}" = --build ]; then
  build
  exit
fi

build || exit 1
mkdir -p "$logs"
echo "running the tests on SQLite and on PostgreSQL (logs in $logs/)"
{
  cargo test "${crates[@]}" "${features[@]}" -- "${skip_processes[@]}" &&
    cargo test "${crates[@]}" "${features[@]}" --test it -- "${processes[@]}"
} >"$logs/sqlite.log" 2>&1 &
sqlite=$!
HEADWAY_TEST_BACKEND=postgres cargo test "${crates[@]}" "${features[@]}" --lib --test it -- \
  --skip cluster:: --skip proxy:: >"$logs/postgres.log" 2>&1 &
postgres=$!

wait "$sqlite"
sqlite_status=$?
wait "$postgres"
postgres_status=$?
for pass in sqlite postgres; do
  echo "== the tests on $pass"
  cat "$logs/$pass.log"
done
echo "== on SQLite: $( ((sqlite_status == 0)) && echo passed || echo FAILED)," \
  "on PostgreSQL: $( ((postgres_status == 0)) && echo passed || echo FAILED)"
((sqlite_status == 0 && postgres_status == 0))
