//! Every request logged once, when its response head is ready: method, route, status, time
//! taken, client address and a request id, which is also sent back in `x-request-id` (a client's
//! own `x-request-id` is kept). Built on tower-http's request-id and trace layers.
//!
//! The client address is the one [`crate::client`] decides.

use crate::client::client_address;
use crate::telemetry::route_of;
use axum::extract::{ConnectInfo, Request};
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
