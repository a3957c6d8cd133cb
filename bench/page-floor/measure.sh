#!/usr/bin/env bash
# Builds the one-island bundle like cargo-leptos builds Headway's (wasm32, size profile,
# wasm-bindgen, wasm-opt -Oz) and prints raw and gzip -9 bytes, next to Headway's release bundle
# in target/site/pkg when it has been built (`make site`). Run from the repository root:
#   bench/page-floor/measure.sh
set -euo pipefail
root=$(pwd)
export PATH="$root/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
out="$root/target/page-floor"
mkdir -p "$out"
cp Cargo.lock bench/page-floor/Cargo.lock
cargo build --manifest-path bench/page-floor/Cargo.toml --release --target wasm32-unknown-unknown \
  --target-dir "$out/build" --quiet
wasm-bindgen --target web --no-typescript --out-dir "$out/pkg" --out-name floor \
  "$out/build/wasm32-unknown-unknown/release/page_floor.wasm"
wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int -o "$out/pkg/floor.wasm" "$out/pkg/floor_bg.wasm"
rm "$out/pkg/floor_bg.wasm"
row() { printf '| `%s` | %s | %s |\n' "$1" "$(wc -c < "$2")" "$(gzip -9 -c "$2" | wc -c)"; }
echo "| file | raw bytes | gzip -9 bytes |"
echo "|---|--:|--:|"
row "one island: wasm" "$out/pkg/floor.wasm"
row "one island: js" "$out/pkg/floor.js"
if [ -f target/site/pkg/headway.wasm ]; then
  row "Headway: wasm" target/site/pkg/headway.wasm
  row "Headway: js" target/site/pkg/headway.js
fi
