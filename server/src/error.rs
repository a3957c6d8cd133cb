//! The REST edge's errors: an [`AppError`] as an HTTP response ([`ApiError`], with the status its
//! code stands for and `Retry-After` when it says when to try again), and JSON bodies whose every
//! rejection is such an error ([`ApiJson`]).

use crate::limits::MAX_BODY_BYTES;
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, MissingJsonContentType};
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use model::{AppError, ErrorCode};
use serde::de::DeserializeOwned;

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

/// A JSON body whose every rejection is a JSON error a person can act on. Every body of the API
/// is an object: any other JSON value is refused, even one that would fill a struct's fields in
/// order (`[null, null]`), as the document says.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let rejected = |r: JsonRejection| ApiError(json_rejection(r));
        if !json_content_type(req.headers()) {
            return Err(rejected(MissingJsonContentType::default().into()));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| rejected(e.into()))?;
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') | None => {}
            Some(_) => {
                return Err(ApiError(AppError::new(
                    ErrorCode::InvalidParams,
                    "the body has the wrong shape: it must be a JSON object",
                )))
            }
        }
        match Json::<T>::from_bytes(&bytes) {
            Ok(Json(v)) => Ok(ApiJson(v)),
            // A whole number may be written `5.0` (as JavaScript and Python's `float` do, and as
            // JSON Schema's `integer` allows): read again with such numbers as integers.
            Err(refused) => whole_numbers(&bytes)
                .and_then(|v| serde_json::from_value(v).ok())
                .map(ApiJson)
                .ok_or_else(|| rejected(refused)),
        }
    }
}

/// `bytes` as JSON with every float that is a whole number within `i64` or `u64` written as an
/// integer; `None` when it is not JSON or holds no such float (nothing to read again).
fn whole_numbers(bytes: &[u8]) -> Option<serde_json::Value> {
    fn visit(value: &mut serde_json::Value) -> bool {
        match value {
            serde_json::Value::Number(n) => {
                let Some(f) = n.as_f64().filter(|f| n.is_f64() && f.fract() == 0.0) else {
                    return false;
                };
                // 2⁶³ and 2⁶⁴ are the first floats past each range.
                let whole =
                    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
                        serde_json::Number::from(f as i64)
                    } else if (0.0..18_446_744_073_709_551_616.0).contains(&f) {
                        serde_json::Number::from(f as u64)
                    } else {
                        return false;
                    };
                *n = whole;
                true
            }
            serde_json::Value::Array(items) => {
                items.iter_mut().fold(false, |any, v| visit(v) | any)
            }
            serde_json::Value::Object(fields) => {
                fields.values_mut().fold(false, |any, v| visit(v) | any)
            }
            _ => false,
        }
    }
    let mut value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    visit(&mut value).then_some(value)
}

/// Whether a request says its body is JSON: `application/json` or a `+json` type, as axum's
/// `Json` asks.
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json")
            || subtype
                .rsplit_once('+')
                .is_some_and(|(_, suffix)| suffix.eq_ignore_ascii_case("json")))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_floats_are_read_again_as_integers_and_nothing_else_is() {
        let again = |json: &str| whole_numbers(json.as_bytes()).map(|v| v.to_string());
        assert_eq!(
            again(r#"{"progress":115587.0,"log":[{"seq":697.0,"text":"x"}],"rate":0.5}"#)
                .as_deref(),
            Some(r#"{"progress":115587,"log":[{"seq":697,"text":"x"}],"rate":0.5}"#)
        );
        assert_eq!(
            again(r#"{"total":-3.0}"#).as_deref(),
            Some(r#"{"total":-3}"#)
        );
        assert_eq!(
            again(r#"{"total":1e19}"#).as_deref(),
            Some(r#"{"total":10000000000000000000}"#)
        );
        // Nothing to read again: no whole float, one out of every range, or not JSON.
        assert_eq!(again(r#"{"progress":5,"rate":0.5}"#), None);
        assert_eq!(again(r#"{"progress":1e20}"#), None);
        assert_eq!(again("{"), None);
    }
}
