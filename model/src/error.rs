//! The one error type that crosses the wire: server functions return it to islands, and the JSON
//! API and the stream render it as `{code, message}` (plus `fields` for validation errors).
//!
//! Internal failures are logged on the server with their context and reach users only as
//! [`ErrorCode::Internal`] with a generic message.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Stable machine-readable error codes. The HTTP status follows from the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request could not be read at all (not JSON, wrong shape, bad header).
    BadRequest,
    /// The request was read, but a value is not acceptable; see `fields`.
    InvalidParams,
    UnknownKind,
    NotFound,
    /// An operator request without the right token.
    Unauthorized,
    /// The caller is known but may not do or see this.
    Forbidden,
    /// The job is in a state that does not allow this (e.g. cancelling a finished job).
    Conflict,
    PayloadTooLarge,
    /// The request body did not arrive in time.
    RequestTimeout,
    /// The request named a host this server does not answer for (`Host`).
    MisdirectedRequest,
    TooManyRequests,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::InvalidParams | ErrorCode::UnknownKind => 422,
            ErrorCode::NotFound => 404,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::RequestTimeout => 408,
            ErrorCode::MisdirectedRequest => 421,
            ErrorCode::TooManyRequests => 429,
            ErrorCode::Unavailable => 503,
            ErrorCode::Internal => 500,
        }
    }
}

/// A problem with one named input, shown next to that field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// Seconds after which trying again may succeed (a limit that frees up): sent as
    /// `Retry-After` too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError {
            code,
            message: message.into(),
            fields: Vec::new(),
            retry_after: None,
        }
    }

    /// A refusal that lifts with time: `429 Too Many Requests` with `Retry-After`.
    pub fn too_many(message: impl Into<String>, retry_after_secs: u64) -> Self {
        AppError::new(ErrorCode::TooManyRequests, message).retry_after(retry_after_secs)
    }

    /// Says when trying again may succeed (at least a second from now).
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        AppError::new(ErrorCode::BadRequest, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        AppError::new(ErrorCode::Unauthorized, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        AppError::new(ErrorCode::Forbidden, message)
    }

    pub fn not_found() -> Self {
        AppError::new(ErrorCode::NotFound, "no such job")
    }

    pub fn internal() -> Self {
        AppError::new(
            ErrorCode::Internal,
            "something went wrong on the server; it has been logged",
        )
    }

    /// What the browser reports when a request to the server did not get an answer.
    pub fn unreachable() -> Self {
        AppError::new(
            ErrorCode::Unavailable,
            "the server could not be reached; check the connection and try again",
        )
    }

    /// A validation failure listing every bad field at once.
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        let message = fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ");
        AppError {
            code: ErrorCode::InvalidParams,
            message,
            fields,
            retry_after: None,
        }
    }

    /// The message for one field, if validation flagged it.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.field == name)
            .map(|f| f.message.as_str())
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

/// Server functions return `AppError` itself, encoded as JSON, so islands read the same `code`
/// and `fields` as scripts do.
#[cfg(feature = "server-fn")]
impl server_fn::error::FromServerFnError for AppError {
    type Encoder = crate::codec::JsonText;

    fn from_server_fn_error(value: server_fn::error::ServerFnErrorErr) -> Self {
        use server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Args(m) | E::MissingArg(m) | E::Deserialization(m) => AppError::bad_request(m),
            E::Request(_) => AppError::unreachable(),
            other => AppError::new(ErrorCode::Internal, other.to_string()),
        }
    }
}
