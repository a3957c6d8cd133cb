//! Cross-site request refusal. A request that changes state and is authenticated by the
//! session cookie (server functions, form posts, the API) is refused with 403 when its `Origin`
//! names another origin than the one it was sent to, or, without an `Origin`, when
//! `Sec-Fetch-Site` says `cross-site`. Leptos' server functions check neither, and `SameSite`
//! alone leaves older browsers and same-site attackers. Bearer-token requests carry no ambient
//! credential and are exempt; so are reads (`GET`, `HEAD`, `OPTIONS`), which change nothing.

use crate::error::ApiError;
use axum::extract::Request;
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use model::AppError;

pub async fn refuse_cross_site(req: Request, next: Next) -> Response {
    if let Err(why) = check(req.method(), req.headers()) {
        tracing::warn!(method = %req.method(), path = req.uri().path(), why, "cross-site request refused");
        return ApiError(AppError::forbidden(format!(
            "cross-site request refused: {why}"
        )))
        .into_response();
    }
    next.run(req).await
}

/// `Err` with the reason when the request must be refused.
pub fn check(method: &Method, headers: &HeaderMap) -> Result<(), &'static str> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    if headers.get(header::AUTHORIZATION).is_some() && headers.get(header::COOKIE).is_none() {
        return Ok(());
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().map_err(|_| "unreadable Origin")?;
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .ok_or("Origin without Host")?;
        // The scheme is not compared: behind a proxy that ends TLS, the server sees http.
        let origin_host = origin
            .split_once("://")
            .map(|(_, rest)| rest)
            .ok_or("the Origin is opaque")?;
        return match origin_host.eq_ignore_ascii_case(host) {
            true => Ok(()),
            false => Err("its Origin is another site"),
        };
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("cross-site") => Err("Sec-Fetch-Site says cross-site"),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_same_origin_changes_pass() {
        let host = ("host", "127.0.0.1:3000");
        assert!(check(
            &Method::POST,
            &headers(&[host, ("origin", "http://127.0.0.1:3000")])
        )
        .is_ok());
        assert!(check(
            &Method::POST,
            &headers(&[host, ("origin", "https://127.0.0.1:3000")])
        )
        .is_ok());
        assert!(check(
            &Method::POST,
            &headers(&[host, ("origin", "http://evil.example")])
        )
        .is_err());
        assert!(check(
            &Method::POST,
            &headers(&[host, ("origin", "http://127.0.0.1:3001")])
        )
        .is_err());
        assert!(check(&Method::DELETE, &headers(&[host, ("origin", "null")])).is_err());
        assert!(check(
            &Method::POST,
            &headers(&[host, ("sec-fetch-site", "cross-site")])
        )
        .is_err());
        assert!(check(
            &Method::POST,
            &headers(&[host, ("sec-fetch-site", "same-origin")])
        )
        .is_ok());
        // Scripts without a browser send neither header.
        assert!(check(&Method::POST, &headers(&[host])).is_ok());
        // Reads and bearer requests are exempt; a bearer request that also sends cookies is not.
        assert!(check(
            &Method::GET,
            &headers(&[host, ("origin", "http://evil.example")])
        )
        .is_ok());
        assert!(check(
            &Method::POST,
            &headers(&[
                host,
                ("origin", "http://evil.example"),
                ("authorization", "Bearer x")
            ])
        )
        .is_ok());
        assert!(check(
            &Method::POST,
            &headers(&[
                host,
                ("origin", "http://evil.example"),
                ("authorization", "Bearer x"),
                ("cookie", "a=b")
            ])
        )
        .is_err());
    }
}
