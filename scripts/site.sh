#!/usr/bin/env bash
# Release build of the site into target/site (`make site`): the server with the default
# toolchain, the wasm bundle with a pinned nightly that rebuilds the standard library for it
# without panic messages, panic locations or `Debug` output, and with its smaller algorithms. The dashboard's assets are 11 %
# lighter for it (docs/BENCHMARKS.md, "Dashboard assets"). A panic in the browser then stops the
# island without a message: debug builds (`make site-dev`, `make watch`) keep the messages.
#
#   WASM_TOOLCHAIN=stable scripts/site.sh   the whole site with the default toolchain, as
#                                           `cargo leptos build --release --split` builds it
#
# `--split`: the islands marked `#[island(lazy)]` go into wasm files of their own, which only the
# pages showing them load.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"

WASM_TOOLCHAIN="${WASM_TOOLCHAIN:-nightly-2026-05-20}"

if [ "$WASM_TOOLCHAIN" = stable ]; then
  exec cargo leptos build --release --split
fi

if ! rustup run "$WASM_TOOLCHAIN" rustc --version >/dev/null 2>&1 \
  || ! rustup component list --installed --toolchain "$WASM_TOOLCHAIN" | grep -q '^rust-src'; then
  printf '\n== installing the %s toolchain for the wasm bundle (once)\n' "$WASM_TOOLCHAIN"
  rustup toolchain install "$WASM_TOOLCHAIN" --profile minimal --component rust-src
fi

# cargo-leptos adds its own flags to RUSTFLAGS, after those of the wasm target read from here.
RUSTUP_TOOLCHAIN="$WASM_TOOLCHAIN" \
  CARGO_UNSTABLE_BUILD_STD=std,panic_abort \
  CARGO_UNSTABLE_BUILD_STD_FEATURES=optimize_for_size \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none" \
  cargo leptos build --release --split --frontend-only
cargo leptos build --release --split --server-only
