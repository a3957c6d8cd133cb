//! The REST edge's errors: an [`AppError`] as an HTTP response ([`ApiError`], with the status its
//! code stands for and `Retry-After` when it says when to try again), and JSON bodies whose every
//! rejection is such an error ([`ApiJson`]).

use crate::limits::MAX_BODY_BYTES;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use model::{AppError, ErrorCode};

/// An [`AppError`] as an HTTP response; an internal one is logged here, once, with its causes.
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    /// The error's status and JSON body, with `Retry-After` when the error says when to try
    /// again.
    fn into_response(self) -> Response {
        if let Some(line) = self.0.log_line() {
            tracing::error!(error = %line, "a request failed");
        }
        let status = StatusCode::from_u16(self.0.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = self.0.retry_after;
        let mut response = (status, Json(self.0)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A JSON body whose every rejection is a JSON error a person can act on.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(ApiError(json_rejection(rejection))),
        }
    }
}

fn json_rejection(r: JsonRejection) -> AppError {
    match r {
        JsonRejection::MissingJsonContentType(_) => {
            AppError::bad_request("send the body as JSON with Content-Type: application/json")
        }
        JsonRejection::JsonSyntaxError(e) => {
            AppError::bad_request(format!("the body is not valid JSON: {}", e.body_text()))
        }
        JsonRejection::JsonDataError(e) => AppError::new(
            ErrorCode::InvalidParams,
            format!("the body has the wrong shape: {}", e.body_text()),
        ),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::new(
                ErrorCode::PayloadTooLarge,
                format!("the body is larger than {MAX_BODY_BYTES} bytes"),
            )
        }
        other => AppError::bad_request(other.body_text()),
    }
}
