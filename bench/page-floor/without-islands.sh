#!/usr/bin/env bash
# Weighs Headway's wasm with the body of every island replaced by an empty view: what the
# bundle costs before any island does anything (Leptos, wasm-bindgen glue, the islands' props
# and the server functions' client side). Builds a detached copy of HEAD under target/, leaving
# the working tree alone. Run from the repository root:
#   bench/page-floor/without-islands.sh
set -euo pipefail
root=$(pwd)
export PATH="$root/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
out="$root/target/page-floor"
tree="$out/tree"
mkdir -p "$out"
git worktree remove --force "$tree" 2>/dev/null || true
git worktree add --detach --quiet "$tree" HEAD
trap 'git worktree remove --force "$tree"' EXIT
python3 - "$tree" <<'PY'
import glob, re, sys
stubbed = []
for path in glob.glob(sys.argv[1] + "/app/src/**/*.rs", recursive=True):
    text = open(path).read()
    out, pos = [], 0
    for m in re.finditer(r"#\[island\]\s*\npub fn (\w+)[^{]*\{", text):
        if m.start() < pos:
            continue
        depth, j = 1, m.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        out.append(text[pos:m.end()] + "\n    view! { <span></span> }\n")
        pos = j - 1
        stubbed.append(m.group(1))
    if stubbed and pos:
        open(path, "w").write("".join(out) + text[pos:])
print("islands emptied:", ", ".join(sorted(stubbed)))
PY
(cd "$tree" && cargo build --quiet -p frontend --lib --target wasm32-unknown-unknown --no-default-features \
  --features hydrate --profile wasm-release --target-dir "$out/islands-build")
wasm-bindgen --target web --no-typescript --out-dir "$out/islands-pkg" --out-name empty \
  "$out/islands-build/wasm32-unknown-unknown/wasm-release/frontend.wasm"
wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int -o "$out/islands-pkg/empty.wasm" \
  "$out/islands-pkg/empty_bg.wasm"
rm "$out/islands-pkg/empty_bg.wasm"
echo "| file | raw bytes | gzip -9 bytes |"
echo "|---|--:|--:|"
for f in empty.wasm empty.js; do
  printf '| Headway, islands emptied: %s | %s | %s |\n' "$f" "$(wc -c < "$out/islands-pkg/$f")" \
    "$(gzip -9 -c "$out/islands-pkg/$f" | wc -c)"
done
