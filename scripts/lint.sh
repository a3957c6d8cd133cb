#!/usr/bin/env bash
# The lints: clippy on every target of every crate, warnings denied (the server's crates, then
# the browser's with its own target), and the documentation built with warnings denied, so that
# a link to something renamed or gone fails. The documentation is the developers': private
# items included, so a link from a module's header to a private module is a link, not a lint.
set -euo pipefail
cd "$(dirname "$0")/.."

crates=(-p model -p store-core -p store-sqlite -p store-postgres -p engine -p app -p server -p bench)
features=(--features app/ssr)

cargo clippy "${crates[@]}" "${features[@]}" --all-targets -- -D warnings
cargo clippy -p frontend --target wasm32-unknown-unknown --no-default-features --features hydrate \
  --target-dir target/front -- -D warnings
RUSTDOCFLAGS="-D warnings -A rustdoc::private_intra_doc_links" \
  cargo doc --no-deps --document-private-items "${crates[@]}" "${features[@]}"
