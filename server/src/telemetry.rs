//! The server's metrics, in one registry per server: the engine's (see `engine::telemetry`) and
//! those of HTTP and the event streams, counted here by a middleware ([`count_requests`]) and by
//! the streams themselves. `GET /metrics` renders them ([`crate::rest::metrics`]).
//!
//! Every label value comes from a fixed set: methods outside the standard ones are `other`,
//! routes are the router's declared patterns, so no request can add series.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use engine::feed::FeedMetrics;
use engine::Engine;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

/// A request's method as a label: one of the standard methods, else `other`.
pub fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StreamLabels {
    /// `sse` (an event stream) or `poll` (a long poll).
    transport: &'static str,
}

fn request_seconds() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

/// The server's own metrics: HTTP requests and event streams.
pub struct ServerMetrics {
    requests: Family<RequestLabels, Counter>,
    duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    open: Family<StreamLabels, Gauge>,
    bytes_sent: Counter,
    caught_up: Counter,
    progress_skipped: Counter,
}

impl ServerMetrics {
    fn new() -> ServerMetrics {
        ServerMetrics {
            requests: Family::default(),
            duration: Family::new_with_constructor(request_seconds),
            open: Family::default(),
            bytes_sent: Counter::default(),
            caught_up: Counter::default(),
            progress_skipped: Counter::default(),
        }
    }

    fn register(&self, registry: &mut Registry) {
        registry.register(
            "headway_http_requests",
            "HTTP requests answered, by method, route and status",
            self.requests.clone(),
        );
        registry.register_with_unit(
            "headway_http_request_duration",
            "Time to answer an HTTP request (to the response's head), by method and route",
            Unit::Seconds,
            self.duration.clone(),
        );
        registry.register(
            "headway_streams_open",
            "Event streams and long polls open now",
            self.open.clone(),
        );
        registry.register_with_unit(
            "headway_stream_sent",
            "Bytes of events sent on event streams and long polls",
            Unit::Bytes,
            self.bytes_sent.clone(),
        );
        registry.register(
            "headway_stream_caught_up",
            "Times a stream fell behind the live events and caught up from the store",
            self.caught_up.clone(),
        );
        registry.register(
            "headway_stream_progress_skipped",
            "Progress samples an event stream or long poll left out because a later sample of the same job went with them",
            self.progress_skipped.clone(),
        );
    }

    /// Counts a stream or long poll as open until the guard is dropped.
    pub fn opened(self: &Arc<Self>, transport: &'static str) -> OpenStream {
        self.open.get_or_create(&StreamLabels { transport }).inc();
        OpenStream {
            metrics: Arc::clone(self),
            transport,
        }
    }

    pub fn sent(&self, bytes: usize) {
        self.bytes_sent.inc_by(bytes as u64);
    }
}

/// What the feeds of streams and long polls count besides what they send.
impl FeedMetrics for ServerMetrics {
    fn fell_behind(&self) {
        self.caught_up.inc();
    }

    fn skipped_progress(&self, samples: usize) {
        if samples > 0 {
            self.progress_skipped.inc_by(samples as u64);
        }
    }
}

/// An open stream, counted in `headway_streams_open` while it lives.
pub struct OpenStream {
    metrics: Arc<ServerMetrics>,
    transport: &'static str,
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.metrics
            .open
            .get_or_create(&StreamLabels {
                transport: self.transport,
            })
            .dec();
    }
}

/// The registry `/metrics` renders, and who may read it.
pub struct Telemetry {
    pub registry: Registry,
    pub server: Arc<ServerMetrics>,
    /// `/metrics` needs no token from anyone (`--metrics-public`).
    pub public: bool,
}

impl Telemetry {
    /// `public`: `/metrics` needs no token from anyone (`--metrics-public`).
    pub fn new(engine: &Engine, public: bool) -> Telemetry {
        let mut registry = Registry::default();
        engine.metrics().register(&mut registry);
        let server = Arc::new(ServerMetrics::new());
        server.register(&mut registry);
        Telemetry {
            registry,
            server,
            public,
        }
    }
}

/// Counts every request by method, route (the route's pattern, never the raw path) and status,
/// and times it.
pub async fn count_requests(
    State(telemetry): State<Arc<Telemetry>>,
    req: Request,
    next: Next,
) -> Response {
    let method = method_label(req.method());
    let route = route_of(&req);
    let started = Instant::now();
    let response = next.run(req).await;
    let m = &telemetry.server;
    m.duration
        .get_or_create(&RouteLabels {
            method,
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    m.requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// The route a request matched, as declared (`/api/v1/jobs/{id}`); the site's files are
/// `static`, and pages, which have no axum route, are named by their kind, so that labels stay
/// few.
pub fn route_of(req: &Request) -> String {
    let path = req.uri().path();
    if path.starts_with("/pkg/") || path.starts_with("/favicon") {
        return "static".into();
    }
    if let Some(path) = req.extensions().get::<MatchedPath>() {
        return path.as_str().to_string();
    }
    if path.starts_with("/api/") {
        "api (no route)".into()
    } else {
        "page".into()
    }
}
