//! Headers that every answer carries, so that a browser holds Headway's pages to what they are:
//!
//! - `Content-Security-Policy`: pages set their own (see `app::security`), which lets scripts
//!   run only from this site or with the page's one-time nonce (the islands' loader), never
//!   inline script an attacker could slip into a page; every other answer (JSON, streams,
//!   files) gets `default-src 'none'`. Both say `frame-ancestors 'none'`: no other site may
//!   frame a page, so a one-click confirmation cannot be clicked through an invisible frame.
//! - `X-Frame-Options: DENY`, the same for browsers that predate `frame-ancestors`;
//! - `X-Content-Type-Options: nosniff`: a file is what its `Content-Type` says;
//! - `Referrer-Policy: same-origin`: job ids in URLs never leave for other sites (and forms
//!   without JavaScript still come back to the page they were sent from);
//! - `Cross-Origin-Opener-Policy: same-origin`: a page opened by another site cannot script it.

use axum::extract::Request;
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The policy of answers that are not pages: nothing may load from them or frame them.
pub const NOT_A_PAGE: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

const FIXED: [(HeaderName, &str); 4] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "same-origin"),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
];

pub async fn add(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    for (name, value) in FIXED {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(NOT_A_PAGE),
        );
    }
    response
}
