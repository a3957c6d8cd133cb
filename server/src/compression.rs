//! Compressed answers.
//!
//! - Pages, assets and API answers go compressed to a client that accepts it ([`layer`]):
//!   brotli at quality 4 where it is accepted (every current browser), else gzip; event streams
//!   never (each event must leave as it is written), nor tiny answers or images.
//! - An answer that is already compressed is left alone: a release site's files go as their
//!   brotli (quality 11) or `gzip -9` copy, made when the site was built ([`crate::assets`]).
//! - Every answer that depends on `Accept-Encoding` says so ([`vary_on_encoding`]), so that a
//!   cache between Headway and a browser never hands the brotli copy to a client that did not
//!   ask for it. The compression layer marks what it compresses; a precompressed copy is marked
//!   here.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::compression::CompressionLayer;

/// Brotli or gzip for the answers that are not compressed yet.
pub fn layer() -> CompressionLayer {
    CompressionLayer::new()
}

/// Adds `Vary: Accept-Encoding` to an answer that was sent compressed without it.
pub async fn vary_on_encoding(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if headers.contains_key(header::CONTENT_ENCODING) && !headers.contains_key(header::VARY) {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}
