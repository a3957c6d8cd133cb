#!/usr/bin/env bash
# Installs what building and testing Headway needs, skipping whatever is already there.
#   scripts/setup.sh build   toolchain for building the site (wasm target, cargo-leptos,
#                            wasm-bindgen CLI, wasm-opt)
#   scripts/setup.sh test    the above, plus Chromium and Playwright for the end-to-end tests
set -euo pipefail
cd "$(dirname "$0")/.."

what="${1:-build}"
CARGO_LEPTOS_VERSION=0.3.10
BINARYEN_VERSION=132.0.0
# Minifies the split loader of release builds (cargo-leptos minifies headway.js, not it).
TERSER_VERSION=5.51.4
SCHEMATHESIS_VERSION=4.32.5
# The Standard Webhooks verifier the webhook tests check deliveries with (server/tests/it).
STANDARDWEBHOOKS_VERSION=1.1.0
# The Python client generator a test builds a client with from the API's document.
OPENAPI_PYTHON_CLIENT_VERSION=0.29.1
# SQLite as the server bundles it (3.46, libsqlite3-sys), for the schema `make sqlx-check`
# builds: Debian's is older than the migrations' FTS5 options.
APSW_VERSION=3.46.1.0
export PATH="$PWD/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"

step() { printf '\n== %s\n' "$*"; }

# The version of a Python package in .tools/venv, or nothing. Read whole, not piped into
# `grep -q`: grep leaving early would end pip with SIGPIPE, which `pipefail` takes for a missing
# package, and the package would be installed again on every run.
venv_version() {
  local shown
  shown=$(.tools/venv/bin/pip show "$1" 2>/dev/null) || return 0
  sed -n 's/^Version: //p' <<<"$shown"
}

# Build tools are built without LTO and with parallel codegen: they install in about half the time.
fast_install() {
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 cargo install "$@"
}

if ! rustup target list --installed | grep -x wasm32-unknown-unknown >/dev/null; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# cargo-leptos only drives cargo, wasm-bindgen and wasm-opt: unoptimized, it builds the site as
# fast and installs in half the time (about 9 minutes on two cores instead of 19).
if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  step "installing cargo-leptos $CARGO_LEPTOS_VERSION (takes a while, once)"
  cargo install --debug --locked cargo-leptos --version "$CARGO_LEPTOS_VERSION"
fi

# The wasm-bindgen CLI must match the library version in Cargo.lock exactly.
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q " $bindgen_version\$"; then
  step "installing wasm-bindgen-cli $bindgen_version"
  fast_install wasm-bindgen-cli --version "$bindgen_version" --force
fi

# wasm-opt from npm's binaryen; Debian's older one produces wasm that does not hydrate. Both in
# one install: npm removes from .tools what a later install does not name.
if [ ! -x .tools/node_modules/.bin/wasm-opt ] || [ ! -x .tools/node_modules/.bin/terser ]; then
  step "installing wasm-opt (binaryen $BINARYEN_VERSION) and terser $TERSER_VERSION into .tools/"
  mkdir -p .tools
  npm install --prefix .tools --no-save --no-audit --no-fund \
    "binaryen@$BINARYEN_VERSION" "terser@$TERSER_VERSION" >/dev/null
fi

# Debian packages, installed only when missing.
apt_install() {
  local sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "$@" >/dev/null
}

# The example command kinds (examples/commands) are shell and Python scripts; one draws its bar
# with tqdm, which Headway reads (it draws the same bar by hand where tqdm is missing).
if ! /usr/bin/python3 -c 'import tqdm' 2>/dev/null; then
  step "installing Python 3 and tqdm, for the example commands"
  apt_install python3 python3-tqdm
fi

if [ "$what" = test ]; then
  # `make test` checks that the Rust code is formatted.
  if ! cargo fmt --version >/dev/null 2>&1; then
    step "adding rustfmt"
    rustup component add rustfmt
  fi
  if [ ! -x /usr/bin/chromium ]; then
    step "installing Chromium"
    apt_install chromium
  fi
  # The pages speak Simplified Chinese too: without a CJK font Chromium draws its characters as
  # boxes in the screenshots and the tests' traces. WenQuanYi Micro Hei is Debian's smallest.
  if ! dpkg -s fonts-wqy-microhei >/dev/null 2>&1 && ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then
    step "installing a CJK font"
    apt_install fonts-wqy-microhei
  fi
  # The tests reach SQLite files from outside Headway, as an operator would, with Python's
  # sqlite3 (scripts/sqlx-prepare.sh, the refused-write test).
  if ! python3 -c 'import sqlite3' 2>/dev/null; then
    step "installing Python 3"
    apt_install python3
  fi
  # /metrics is checked with a real Prometheus parser: the Python client's, Debian's package.
  if ! /usr/bin/python3 -c 'import prometheus_client' 2>/dev/null; then
    step "installing the Prometheus client for Python"
    apt_install python3-prometheus-client
  fi
  # A test runs Headway behind Debian's nginx, started on loopback with its own configuration.
  if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
    step "installing nginx"
    apt_install nginx
  fi
  # The tests run every store test and integration test on PostgreSQL too, in throwaway
  # clusters they start with pg_virtualenv (postgresql-common) and remove afterwards.
  if ! command -v pg_virtualenv >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    step "installing PostgreSQL"
    apt_install postgresql
  fi
  # Python tools from PyPI, in a virtualenv of Debian's Python under .tools/: the API fuzzer
  # (scripts/fuzz-api.sh: Schemathesis), the webhook tests' verifier (standardwebhooks), the
  # client generator a test builds a Python client with (openapi-python-client) and the SQLite
  # the schema check builds its scratch database with (apsw).
  if ! /usr/bin/python3 -c 'import ensurepip, venv' 2>/dev/null; then
    step "installing Python's venv"
    apt_install python3-venv
  fi
  if ! .tools/venv/bin/schemathesis --version 2>/dev/null | grep -q " $SCHEMATHESIS_VERSION\$"; then
    step "installing Schemathesis $SCHEMATHESIS_VERSION into .tools/venv"
    mkdir -p .tools
    [ -x .tools/venv/bin/pip ] || /usr/bin/python3 -m venv .tools/venv
    .tools/venv/bin/pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  fi
  if [ "$(venv_version standardwebhooks)" != "$STANDARDWEBHOOKS_VERSION" ]; then
    step "installing standardwebhooks $STANDARDWEBHOOKS_VERSION into .tools/venv"
    .tools/venv/bin/pip install --quiet --disable-pip-version-check "standardwebhooks==$STANDARDWEBHOOKS_VERSION"
  fi
  if [ "$(venv_version openapi-python-client)" != "$OPENAPI_PYTHON_CLIENT_VERSION" ]; then
    step "installing openapi-python-client $OPENAPI_PYTHON_CLIENT_VERSION into .tools/venv"
    .tools/venv/bin/pip install --quiet --disable-pip-version-check "openapi-python-client==$OPENAPI_PYTHON_CLIENT_VERSION"
  fi
  if [ "$(venv_version apsw)" != "$APSW_VERSION" ]; then
    step "installing apsw $APSW_VERSION into .tools/venv"
    .tools/venv/bin/pip install --quiet --disable-pip-version-check "apsw==$APSW_VERSION"
  fi
  if [ ! -d end2end/node_modules/@playwright/test ] || [ ! -d end2end/node_modules/@axe-core/playwright ] \
    || [ ! -d end2end/node_modules/openapi-typescript ] || [ ! -d end2end/node_modules/openapi-fetch ]; then
    step "installing Playwright (without its browser download) and the TypeScript client generator"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
fi
