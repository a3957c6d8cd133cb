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
# pages showing them load. `--precompress`: every file of the site gets a brotli copy next to it
# (`.br`, quality 11), and `.gz` copies are then written again with `gzip -9` (cargo-leptos' own
# are 18 % larger). The server sends the copy a browser accepts, compressed once here instead of
# on every request; a debug build clears them with the rest of the site.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"

WASM_TOOLCHAIN="${WASM_TOOLCHAIN:-nightly-2026-05-20}"

# The names of the JavaScript functions the wasm imports, without wasm-bindgen's random digits
# (scripts/import-names.mjs: -3.8 KB gzip -9 for the dashboard).
import_names() {
  node scripts/import-names.mjs target/site/pkg/headway.wasm target/site/pkg/headway.js
}

# The split loader (`__wasm_split.*.js`), which cargo-leptos writes unminified while it minifies
# headway.js: minified (-1.0 KB as sent to a browser), and its brotli copy written again.
minify_loader() {
  local loader
  for loader in target/site/pkg/__wasm_split.*.js; do
    [ -f "$loader" ] || continue
    terser "$loader" --module --compress --mangle -o "$loader"
    node -e '
      const fs = require("fs"), zlib = require("zlib");
      const f = process.argv[1];
      const br = zlib.brotliCompressSync(fs.readFileSync(f), {
        params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 },
      });
      fs.writeFileSync(f + ".br", br);
    ' "$loader"
  done
}

# The `.gz` copies, from the files as built.
gzip_copies() {
  find target/site -type f ! -name '*.gz' ! -name '*.br' -exec gzip -9 -n -k -f {} +
}

if [ "$WASM_TOOLCHAIN" = stable ]; then
  cargo leptos build --release --split --precompress
  import_names
  minify_loader
  gzip_copies
  exit
fi

if ! rustup run "$WASM_TOOLCHAIN" rustc --version >/dev/null 2>&1 \
  || ! rustup component list --installed --toolchain "$WASM_TOOLCHAIN" | grep '^rust-src' >/dev/null; then
  printf '\n== installing the %s toolchain for the wasm bundle (once)\n' "$WASM_TOOLCHAIN"
  rustup toolchain install "$WASM_TOOLCHAIN" --profile minimal --component rust-src
fi

# cargo-leptos adds its own flags to RUSTFLAGS, after those of the wasm target read from here.
RUSTUP_TOOLCHAIN="$WASM_TOOLCHAIN" \
  CARGO_UNSTABLE_BUILD_STD=std,panic_abort \
  CARGO_UNSTABLE_BUILD_STD_FEATURES=optimize_for_size \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none" \
  cargo leptos build --release --split --precompress --frontend-only
import_names
minify_loader
gzip_copies
cargo leptos build --release --split --server-only
