//! Refusals that reach every client as a readable answer.
//!
//! - A body over [`MAX_BODY_BYTES`] (a start's: [`MAX_START_BYTES`], for a posted workflow; a
//!   report's: [`model::external::MAX_REPORT_BYTES`]) is refused with 413, but only after it has been read and
//!   discarded (up to [`DRAIN_BYTES`] or [`DRAIN_TIME`]), as nginx's lingering close does: a
//!   client that writes its whole body before reading (Python's `http.client`, curl without
//!   `Expect`) would otherwise get a broken pipe instead of the answer. The answer says
//!   `Connection: close`.
//! - A body must arrive whole within `--body-timeout-secs` of its head, else 408 and the
//!   connection closes; a body so slow that its connection is closed to make room for others
//!   (see [`crate::serve::phases`]) gets the same answer.
//! - The JSON API's refusals that axum makes itself (a path or a query that does not parse, a
//!   method the path does not take) are JSON errors as every other one ([`json_refusals`]).
//!
//! A server function's refusals have their status from the app (`app::server_fns::status`).

use crate::error::ApiError;
use crate::limits::{BodyLimits, DRAIN_BYTES, DRAIN_TIME, MAX_BODY_BYTES, MAX_START_BYTES};
use crate::serve::phases::ConnHandle;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use model::{AppError, ErrorCode};
use std::time::Duration;
use tokio::time::Instant;

/// Reads the request body (up to the limit, within the deadline) before the handler sees it;
/// refuses a larger one once it has been read through, and a late one at once.
pub async fn limit_body(State(limits): State<BodyLimits>, req: Request, next: Next) -> Response {
    let has_body = req.headers().contains_key(header::CONTENT_LENGTH)
        || req.headers().contains_key(header::TRANSFER_ENCODING);
    // A file streams to its handler, which reads it with limits of its own.
    if !has_body || streams_body(&req) {
        return next.run(req).await;
    }
    let conn = req.extensions().get::<ConnHandle>().cloned();
    if let Some(ConnHandle(c)) = &conn {
        c.reading_body();
    }
    let deadline = Instant::now() + limits.timeout;
    let evicted = async {
        match &conn {
            Some(ConnHandle(c)) => c.evicted().await,
            None => std::future::pending().await,
        }
    };
    let mut evicted = std::pin::pin!(evicted);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limit = body_limit(&req);
    let (parts, body) = req.into_parts();
    let mut stream = body.into_data_stream();
    let mut kept = Vec::new();
    let mut too_large = declared.is_some_and(|n| n > limit as u64);
    if !too_large {
        loop {
            let chunk = tokio::select! {
                chunk = stream.next() => chunk,
                _ = tokio::time::sleep_until(deadline) => return too_slow(limits.timeout),
                _ = &mut evicted => return too_slow(limits.timeout),
            };
            let Some(chunk) = chunk else { break };
            let Ok(chunk) = chunk else {
                return ApiError(AppError::bad_request("the request body could not be read"))
                    .into_response();
            };
            if let Some(ConnHandle(c)) = &conn {
                c.received(chunk.len());
            }
            if kept.len() + chunk.len() > limit {
                too_large = true;
                break;
            }
            kept.extend_from_slice(&chunk);
        }
    }
    if too_large {
        let drained = tokio::time::timeout(DRAIN_TIME, async {
            let mut read = kept.len();
            while let Some(Ok(chunk)) = stream.next().await {
                read += chunk.len();
                if read > DRAIN_BYTES {
                    break;
                }
            }
        })
        .await;
        if drained.is_err() {
            tracing::debug!("a refused body took too long to read; closing");
        }
        return payload_too_large(limit);
    }
    if let Some(ConnHandle(c)) = &conn {
        c.answered();
    }
    next.run(Request::from_parts(parts, Body::from(Bytes::from(kept))))
        .await
}

/// The largest body `req` may have: a report carries up to a thousand log lines, a start a
/// posted workflow's definition, any other request [`MAX_BODY_BYTES`].
fn body_limit(req: &Request) -> usize {
    if parts_is_report(req) {
        model::external::MAX_REPORT_BYTES
    } else if req.method() == axum::http::Method::POST && req.uri().path() == "/api/v1/jobs" {
        MAX_START_BYTES
    } else {
        MAX_BODY_BYTES
    }
}

/// Whether the request is a report (an external job's, or a worker's), or a worker's
/// registration with its commands file.
fn parts_is_report(req: &Request) -> bool {
    let (method, path) = (req.method(), req.uri().path());
    (method == axum::http::Method::POST && model::external::is_report_path(path))
        || model::workers::takes_large_body(method.as_str(), path)
}

/// Whether the request is one whose body is a file, read as it arrives by its handler
/// ([`crate::rest::files`]): an upload, the start form sent with its file, or a worker's
/// output.
pub fn streams_body(req: &Request) -> bool {
    let (method, path) = (req.method(), req.uri().path());
    (method == axum::http::Method::POST
        && matches!(path, "/api/v1/uploads" | app::components::START_WITH_FILE))
        || model::workers::is_output_path(method.as_str(), path)
}

/// A body that did not arrive in time: 408, and the connection closes.
fn too_slow(timeout: Duration) -> Response {
    let error = AppError::new(
        ErrorCode::RequestTimeout,
        format!(
            "the request body did not arrive in time (a body must arrive whole within {} \
             seconds, and keep arriving while the server is busy)",
            timeout.as_secs()
        ),
    );
    let mut response = ApiError(error).into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

fn payload_too_large(limit: usize) -> Response {
    let error = AppError::new(
        ErrorCode::PayloadTooLarge,
        format!("the body is larger than {limit} bytes"),
    );
    let mut response = ApiError(error).into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A body refused for its size or its pace may be left unread, so the connection cannot carry
/// another request: the response says `Connection: close`.
pub async fn close_after_refused_body(mut response: Response) -> Response {
    if matches!(
        response.status(),
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT
    ) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Gives a refusal of the JSON API that is not JSON (axum's own: a path or query that does not
/// parse, as text; a method the path does not take, empty) the JSON body of every other error,
/// keeping its status and its `Allow`.
pub async fn json_refusals(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
    // A download's range outside its file is answered as files are.
    if !status.is_client_error() || json || status == StatusCode::RANGE_NOT_SATISFIABLE {
        return response;
    }
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::UNPROCESSABLE_ENTITY => ErrorCode::InvalidParams,
        _ => ErrorCode::BadRequest,
    };
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let message = match String::from_utf8_lossy(&text).trim() {
        "" => status
            .canonical_reason()
            .unwrap_or("refused")
            .to_lowercase(),
        text => text.to_string(),
    };
    let mut answer = ApiError(AppError::new(code, message)).into_response();
    *answer.status_mut() = status;
    if let Some(allow) = parts.headers.get(header::ALLOW) {
        answer.headers_mut().insert(header::ALLOW, allow.clone());
    }
    answer
}
