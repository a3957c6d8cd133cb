#!/usr/bin/env bash
# Regenerates the offline data that lets `sqlx::query!` check each store backend's queries at
# compile time: store/sqlite/.sqlx against a scratch SQLite database built from
# migrations/sqlite, store/postgres/.sqlx against a throwaway PostgreSQL (pg_virtualenv) built
# from migrations/postgres. Run after changing a query or a migration, and commit the result.
#   scripts/sqlx-prepare.sh          regenerate both
#   scripts/sqlx-prepare.sh --check  fail if either is not what the code and schema give
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}

scratch=$(mktemp -d)
chmod 755 "$scratch"
trap 'rm -rf "$scratch"' EXIT
# A target directory of its own, where the backends are always expanded again (the main
# build's artifacts and their fingerprints stay as they are).
target=$PWD/target/sqlx-check

# Expands crate $1's queries against $2 and compares or replaces its .sqlx with what they give.
expand() {
  local crate=$1 url=$2 dir=$3
  local out="$scratch/$crate"
  mkdir -p "$out"
  cargo clean --quiet --target-dir "$target" -p "$crate"
  SQLX_OFFLINE=false DATABASE_URL="$url" SQLX_OFFLINE_DIR="$out" \
    cargo check --quiet --target-dir "$target" -p "$crate" --tests
  if [ "$mode" = "--check" ]; then
    if ! diff -r "$out" "$dir/.sqlx" >/dev/null; then
      diff -r "$out" "$dir/.sqlx" || true
      echo "$dir/.sqlx is out of date: run scripts/sqlx-prepare.sh and commit the result" >&2
      exit 1
    fi
    echo "$dir/.sqlx matches the queries and the schema"
  else
    rm -rf "$dir/.sqlx"
    cp -r "$out" "$dir/.sqlx"
    echo "$dir/.sqlx: $(ls "$dir/.sqlx" | wc -l) queries"
  fi
}

# Inside pg_virtualenv (see below): the PostgreSQL backend against the throwaway cluster.
if [ "${HEADWAY_SQLX_POSTGRES:-}" = 1 ]; then
  for f in migrations/postgres/*.sql; do psql -q -v ON_ERROR_STOP=1 -f "$f" >/dev/null; done
  expand store-postgres "postgres://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/$PGDATABASE" store/postgres
  exit 0
fi

# The scratch database is made by the SQLite the server bundles (apsw's, installed by
# `scripts/setup.sh test`), which knows the migrations' FTS5 options.
python=.tools/venv/bin/python
"$python" -c 'import apsw' 2>/dev/null || { echo "sqlx-prepare: no apsw in .tools/venv (scripts/setup.sh test)" >&2; exit 1; }
"$python" - "$scratch/schema.db" migrations/sqlite/*.sql <<'PY'
import apsw, sys
db = apsw.Connection(sys.argv[1])
for path in sys.argv[2:]:
    db.execute(open(path).read())
PY
expand store-sqlite "sqlite://$scratch/schema.db" store/sqlite

# PostgreSQL: a throwaway cluster for the length of the expansion.
HEADWAY_SQLX_POSTGRES=1 pg_virtualenv -t -o fsync=off bash "$0" "$mode" > "$scratch/pg.log" 2>&1 \
  || { cat "$scratch/pg.log" >&2; exit 1; }
grep -v -e '^Creating new PostgreSQL cluster' -e '^Dropping cluster' "$scratch/pg.log" || true

# On a clean clone (CI), the expansion's build is of no further use: its room goes to the tests'.
if [ "${CI:-}" = true ]; then
  rm -rf "$target"
fi
