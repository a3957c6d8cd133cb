#!/usr/bin/env bash
# Regenerates engine/.sqlx, the offline data that lets `sqlx::query!` check the store's queries at
# compile time: builds a scratch SQLite database from migrations/sqlite and re-expands every
# query against it. Run after changing a query or a migration, and commit the result.
#   scripts/sqlx-prepare.sh          regenerate engine/.sqlx
#   scripts/sqlx-prepare.sh --check  fail if engine/.sqlx is not what the code and schema give
set -euo pipefail
cd "$(dirname "$0")/.."

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
python3 - "$scratch/schema.db" migrations/sqlite/*.sql <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for path in sys.argv[2:]:
    db.executescript(open(path).read())
db.commit()
PY

out="$scratch/sqlx"
mkdir -p "$out"
# A target directory of its own, where the engine is always expanded again (the main build's
# artifacts and their fingerprints stay as they are).
target=target/sqlx-check
cargo clean --quiet --target-dir "$target" -p engine
SQLX_OFFLINE=false DATABASE_URL="sqlite://$scratch/schema.db" SQLX_OFFLINE_DIR="$out" \
  cargo check --quiet --target-dir "$target" -p engine --tests

if [ "${1:-}" = "--check" ]; then
  if ! diff -r "$out" engine/.sqlx >/dev/null; then
    diff -r "$out" engine/.sqlx || true
    echo "engine/.sqlx is out of date: run scripts/sqlx-prepare.sh and commit the result" >&2
    exit 1
  fi
  echo "engine/.sqlx matches the queries and the schema"
else
  rm -rf engine/.sqlx
  cp -r "$out" engine/.sqlx
  echo "engine/.sqlx: $(ls engine/.sqlx | wc -l) queries"
fi
