//! The HTTP status of what a server function answers, and of a page rendered on the server.
//!
//! - A server function called over HTTP that fails answers with its error's status
//!   ([`ErrorCode::http_status`](crate::error::ErrorCode::http_status): 4xx for what the caller
//!   sent, 5xx for the server's own failures), with `Retry-After` when the error says when to
//!   come back. [`refused`] is the one rule: [`super::answered`] applies it to the errors a
//!   function returns, and the server hands it to the server-function layer for the errors it
//!   makes before a function runs (arguments that do not decode:
//!   [`crate::model::error::on_server_fn_error`]). A plain form post keeps the redirect Leptos
//!   answers it with, which takes the browser back to its form.
//! - A page rendered on the server says its own status ([`page_status`]): the job page of a job
//!   that does not exist is a 404 page.

use crate::error::AppError;
use axum::http::{header, request::Parts, HeaderValue, StatusCode};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

/// Gives the server function being called the status of `error` (see the module's header).
pub fn refused(error: &AppError) {
    let (Some(options), Some(parts)) = (use_context::<ResponseOptions>(), use_context::<Parts>())
    else {
        return;
    };
    if !is_call(&parts) {
        return;
    }
    options.set_status(
        StatusCode::from_u16(error.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
    );
    if let Some(secs) = error.retry_after {
        options.insert_header(header::RETRY_AFTER, HeaderValue::from(secs));
    }
}

/// Sets the status of the page being rendered (a missing job is a 404 page). A server function
/// called over HTTP has its error's status instead ([`refused`]).
pub fn page_status(status: u16) {
    let (Some(options), Some(parts), Ok(status)) = (
        use_context::<ResponseOptions>(),
        use_context::<Parts>(),
        StatusCode::from_u16(status),
    ) else {
        return;
    };
    if !is_server_fn(&parts) {
        options.set_status(status);
    }
}

/// Whether the server function being called was sent by a plain form post (without
/// JavaScript), which Leptos answers with a redirect back to the form.
pub fn form_post() -> bool {
    use_context::<Parts>().is_some_and(|parts| is_server_fn(&parts) && !is_call(&parts))
}

/// Whether the request calls a server function (they live under `/api/`, beside the JSON API
/// under `/api/v1/`, which answers for itself).
fn is_server_fn(parts: &Parts) -> bool {
    let path = parts.uri.path();
    path.starts_with("/api/") && !path.starts_with("/api/v1/")
}

/// Whether the request calls a server function and reads its answer: not a plain form post,
/// which Leptos answers with a redirect back to the form (it accepts HTML and says where it
/// came from).
fn is_call(parts: &Parts) -> bool {
    let accepts_html = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    let form_post = accepts_html && parts.headers.contains_key(header::REFERER);
    is_server_fn(parts) && !form_post
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(path: &str, headers: &[(&str, &str)]) -> Parts {
        let mut request = Request::builder().method("POST").uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn a_call_is_a_server_functions_request_whose_answer_is_read() {
        assert!(is_call(&parts(
            "/api/rows",
            &[("accept", "application/json")]
        )));
        assert!(is_call(&parts("/api/rows", &[])));
        assert!(!is_call(&parts(
            "/api/start_job",
            &[("accept", "text/html,*/*"), ("referer", "http://h/new")]
        )));
        assert!(!is_call(&parts("/api/v1/jobs", &[])), "the JSON API");
        assert!(!is_call(&parts("/jobs/1", &[])), "a page");
        assert!(is_server_fn(&parts("/api/start_job", &[])));
        assert!(!is_server_fn(&parts("/new", &[])));
    }
}
