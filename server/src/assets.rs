//! The site's files (`/pkg/…`): the wasm, its scripts and the stylesheet.
//!
//! - A release site (`make site`) has a brotli (`.br`) and a `gzip -9` (`.gz`) copy of each
//!   file, sent as they are to a client that accepts them, brotli first. A debug site has none,
//!   and its files are gzipped on the way out (see [`crate::compression`]).
//! - Checked with the server at every use. The files' names are the same in every build
//!   (`headway.wasm`, `chunk_7.wasm`, …) while what they hold changes, and a page and its files
//!   must come from the same build for the islands to hydrate. Without a `Cache-Control`, a
//!   browser keeps a file it has seen for a while of its own choosing (a tenth of the time since
//!   it last changed), and could run the previous build's wasm under the new build's pages after
//!   an upgrade. `no-cache` keeps the copy but asks first: an unchanged file costs a
//!   `304 Not Modified` (`If-Modified-Since`), a changed one comes whole.
//! - Served here rather than by leptos_axum's fallback, which passes on only a request's
//!   `Accept-Encoding`: no `If-Modified-Since` (so never a `304`), no `Range`.

use axum::http::{header, HeaderValue};
use std::path::Path;
use tower::Layer;
use tower_http::services::ServeDir;
use tower_http::set_header::{SetResponseHeader, SetResponseHeaderLayer};

/// Serves the files under `dir` (the site's `pkg` directory).
pub fn service(dir: &Path) -> SetResponseHeader<ServeDir, HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    )
    .layer(ServeDir::new(dir).precompressed_br().precompressed_gzip())
}
