//! Every request logged once, when its response head is ready: method, route, status, time
//! taken, client address and a request id, which is also sent back in `x-request-id` (a client's
//! own `x-request-id` is kept). Built on tower-http's request-id and trace layers.
//!
//! The client address is the connection's peer, unless that peer is a trusted proxy
//! (`--trusted-proxy`): then it is the nearest address in `X-Forwarded-For` that is not one, or
//! `X-Real-IP`.

use crate::metrics::route_of;
use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderMap;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tower::layer::util::{Identity, Stack};
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{HttpMakeClassifier, TraceLayer};
use tracing::Span;

type MakeSpan = Arc<dyn Fn(&Request) -> Span + Send + Sync>;
type OnResponse = fn(&Response, Duration, &Span);

/// The layers, outermost first: a request id is given (or kept), the request is logged in its
/// span, and the id goes back on the response.
pub type Layers = Stack<
    PropagateRequestIdLayer,
    Stack<
        TraceLayer<HttpMakeClassifier, MakeSpanFn, (), OnResponse, (), (), ()>,
        Stack<SetRequestIdLayer<MakeRequestUuid>, Identity>,
    >,
>;

/// The span of one request.
#[derive(Clone)]
pub struct MakeSpanFn(MakeSpan);

impl tower_http::trace::MakeSpan<axum::body::Body> for MakeSpanFn {
    fn make_span(&mut self, request: &Request) -> Span {
        (self.0)(request)
    }
}

pub fn layers(trusted: Vec<IpAddr>) -> ServiceBuilder<Layers> {
    let trusted = Arc::new(trusted);
    let make_span = MakeSpanFn(Arc::new(move |req: &Request| {
        let id = req
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let client = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| client_address(peer.ip(), req.headers(), &trusted).to_string())
            .unwrap_or_default();
        tracing::info_span!(
            "request",
            method = %req.method(),
            route = %route_of(req),
            path = %req.uri().path(),
            client = %client,
            request_id = %id,
        )
    }));
    let on_response: OnResponse = |response, latency, _span| {
        tracing::info!(
            status = response.status().as_u16(),
            ms = latency.as_secs_f64() * 1000.0,
            "answered"
        );
    };
    ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(make_span)
                .on_request(())
                .on_response(on_response)
                .on_body_chunk(())
                .on_eos(())
                .on_failure(()),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
}

/// Who the client is: `peer`, or if `peer` is a trusted proxy, the address it forwarded.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    // From the nearest hop back: the first address that is not one of our proxies.
    if let Some(client) = forwarded.iter().rev().find(|a| !trusted.contains(a)) {
        return *client;
    }
    headers
        .get("x-real-ip")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.9".parse().unwrap();
        let h = headers(&[("x-forwarded-for", "203.0.113.7, 198.51.100.2")]);
        // Untrusted peer: whatever it claims, it is the client.
        assert_eq!(client_address(other, &h, &[proxy]), other);
        assert_eq!(client_address(proxy, &h, &[]), proxy);
        // Trusted: the nearest forwarded address.
        assert_eq!(
            client_address(proxy, &h, &[proxy]),
            "198.51.100.2".parse::<IpAddr>().unwrap()
        );
        // A chain of our own proxies is skipped.
        let chain = headers(&[("x-forwarded-for", "203.0.113.7, 10.0.0.9")]);
        assert_eq!(
            client_address(proxy, &chain, &[proxy, other]),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        // Without X-Forwarded-For, X-Real-IP; without either, the proxy itself.
        let real = headers(&[("x-real-ip", "203.0.113.8")]);
        assert_eq!(
            client_address(proxy, &real, &[proxy]),
            "203.0.113.8".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_address(proxy, &HeaderMap::new(), &[proxy]), proxy);
        // Garbage is ignored.
        let junk = headers(&[("x-forwarded-for", "not an address")]);
        assert_eq!(client_address(proxy, &junk, &[proxy]), proxy);
    }
}
