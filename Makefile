# Headway: the two commands are `make run` and `make test` (see README.md).

SHELL := /bin/bash
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

# A run from a clean clone (CI) gains nothing from incremental compilation's caches, which would
# add gigabytes to target/. Nor does it keep the workspace crates' line tables: in a debug build
# they are mostly the names of Leptos' view types (850 MB of the 1 GB integration-test binary,
# as much again in the server's library and its binary); without them the tests' build takes
# about a third of the disk, and a failure's backtrace still names its functions.
ifeq ($(CI),true)
export CARGO_INCREMENTAL := 0
export CARGO_PROFILE_DEV_DEBUG := false
endif

ADDR ?= 127.0.0.1:3000
DATABASE_URL ?= sqlite://data/headway.db
# The example command kinds (docs/COMMANDS.md); `make run COMMANDS=` runs without them.
COMMANDS ?= examples/commands/commands.toml
# The example workflows, built of those kinds (docs/WORKFLOWS.md); `make run WORKFLOWS=` runs
# without them (and so does `COMMANDS=`: their steps are the example commands).
WORKFLOWS ?= $(if $(COMMANDS),examples/workflows/workflows.toml)

.PHONY: run test setup setup-test site site-dev unit e2e e2e-release watch

## Set up what is missing, build the release site, run Headway on ./data/headway.db, with the
## example command kinds and workflows.
run: setup site
	./target/release/headway --addr $(ADDR) --database-url $(DATABASE_URL) \
	  $(if $(COMMANDS),--commands $(COMMANDS)) $(if $(WORKFLOWS),--workflows $(WORKFLOWS))

## Puts the release build of `headway` on the PATH: in ~/.cargo/bin (rustup's, already on it), or
## in ~/.local/bin without one. As a command, it talks to a running Headway (docs/EXTERNAL.md).
.PHONY: install
install: setup site
	@dest="$(HOME)/.cargo/bin"; [ -d "$$dest" ] || dest="$(HOME)/.local/bin"; \
	mkdir -p "$$dest" && install -m 0755 target/release/headway "$$dest/headway" && \
	echo "installed $$dest/headway"

## Set up what is missing and run every test: unit, integration, end to end.
## The end-to-end tests run on the debug build: the server the Rust tests were built with
## (target/debug/headway, which `cargo test` builds for the integration tests) and the debug
## site's wasm and styles; `make e2e-release` runs them on the release build.
test: setup-test fmt-check sqlx-check lint unit fuzz-api site-front e2e bench-smoke

setup:
	scripts/setup.sh build

setup-test:
	scripts/setup.sh test

## Release build of the server and the wasm bundle into target/site (scripts/site.sh: the wasm
## with a pinned nightly, 11 % lighter; `WASM_TOOLCHAIN=stable make site` builds it on stable).
## `--split`: the islands marked `#[island(lazy)]` (those of the job, settings and users pages) go
## into wasm files of their own, which only the pages showing them load.
site:
	scripts/site.sh

## Debug build of the same.
site-dev:
	cargo leptos build --split

## The debug site without its server: the wasm bundle, scripts and styles (for `make test`).
.PHONY: site-front
site-front:
	cargo leptos build --split --frontend-only

## Clippy on every target of every crate, warnings denied, and the documentation built with
## warnings denied: a broken link fails (scripts/lint.sh).
.PHONY: lint
lint:
	scripts/lint.sh

## Unit tests (model, engine and its store, app, bench) and integration tests (server/tests/it:
## the real server in-process and as processes, real SSE) on SQLite, with the multi-process tests on PostgreSQL (it/cluster.rs) and nginx in
## front (it/proxy.rs); and, side by side with them, the unit and integration tests again on
## PostgreSQL (scripts/unit.sh). The tests start throwaway PostgreSQL clusters themselves and
## remove them.
unit:
	scripts/unit.sh

## Schemathesis fuzzes the JSON API from its OpenAPI document with all its checks and phases, at
## a small size (under a minute): a throwaway server on the debug build `make unit` made; no 5xx,
## no answer the document does not describe, no request it forbids taken, none it allows refused
## (scripts/fuzz-api.sh; FUZZ_EXAMPLES=100 for a longer run).
.PHONY: fuzz-api
fuzz-api:
	scripts/fuzz-api.sh

## The Rust code is as rustfmt writes it (`cargo fmt --all` fixes it).
.PHONY: fmt-check
fmt-check:
	cargo fmt --all -- --check

## The store's queries are checked at compile time against store/sqlite/.sqlx and
## store/postgres/.sqlx: fail if that offline data is not what the queries and migrations give
## (regenerate: make sqlx-prepare).
.PHONY: sqlx-check sqlx-prepare
sqlx-check:
	scripts/sqlx-prepare.sh --check

sqlx-prepare:
	scripts/sqlx-prepare.sh

## Playwright in Debian's Chromium against the last debug build (make site-dev; in `make test`,
## the server the Rust tests built and make site-front), after the tests' own type check.
e2e:
	cd end2end && npx tsc --noEmit -p . && HEADWAY_BIN=target/debug/headway npx playwright test

## Playwright against the release build.
e2e-release: site
	cd end2end && HEADWAY_BIN=target/release/headway npx playwright test

## Development: rebuilds and reloads on change.
watch: setup
	$(if $(COMMANDS),HEADWAY_COMMANDS=$(COMMANDS)) $(if $(WORKFLOWS),HEADWAY_WORKFLOWS=$(WORKFLOWS)) cargo leptos watch --split

.PHONY: bench bench-smoke

## Benchmarks (docs/BENCHMARKS.md): fan-out, capacity, job throughput and page, each against a
## baseline measured in the same run. Builds the release site first; takes several minutes.
bench: site
	cargo run --release -p bench -- run --bin target/release/headway --out docs/BENCHMARKS.md

## The same benchmarks at tiny sizes on the debug build of the tests (the server and the bench
## as `make unit` builds them, with the site of `make site-front`): under a minute; fails if
## anything went wrong.
bench-smoke:
	scripts/unit.sh --build
	target/debug/headway-bench run --smoke --bin target/debug/headway

## Screenshots of the dashboard and a job page, light and dark, into docs/screenshots (debug build).
.PHONY: screenshots
screenshots: site-dev
	cd end2end && HEADWAY_BIN=target/debug/headway HEADWAY_SCREENSHOTS=docs/screenshots npx playwright test screenshots system --project js --project alone --no-deps --workers 1
