//! Files over HTTP: uploads in (`POST /api/v1/uploads`, streamed to the file store, never held
//! whole), the caller's uploads listed and deleted, and jobs' outputs listed and downloaded.
//!
//! - An upload is the request body itself (its name in `X-File-Name`, percent-encoded UTF-8,
//!   its type in `Content-Type`), or the first file of a `multipart/form-data` body. It skips
//!   the body reading that buffers other requests ([`crate::refusals::limit_body`]) and reads
//!   with a gap limit instead: a body that stops arriving for `--body-timeout-secs` is cut.
//!   Refused for its size, quota or pace, the rest of the body is read and discarded (as for
//!   other 413s) before the answer, which closes the connection.
//! - A download is served as `tower-http` serves files (`Range`, `If-Modified-Since`, `HEAD`),
//!   as an attachment named per RFC 6266 / 5987, with `nosniff` and a sandboxing CSP, so that
//!   no browser renders it as a page of this site.

use crate::error::{ApiError, ApiResult};
use crate::limits::{DRAIN_BYTES, DRAIN_TIME};
use crate::serve::phases::ConnHandle;
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use engine::uploads::Incoming;
use engine::Caller;
use futures::{Stream, StreamExt};
use model::text::percent_decode;
use model::{AppError, ErrorCode, Output, Upload, UploadId};
use serde::Deserialize;
use std::pin::Pin;
use std::time::Duration;
use tower::ServiceExt;

/// The header that names a file sent as the whole body.
pub const FILE_NAME: &str = "x-file-name";

/// A request body as a stream of chunks that fails when no byte arrives for `gap`, or when the
/// connection is closed to make room, and counts what arrives for the connection's pace.
pub type Paced = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

pub fn paced(body: Body, conn: Option<ConnHandle>, gap: Duration) -> Paced {
    if let Some(ConnHandle(c)) = &conn {
        c.reading_body();
    }
    let inner = body.into_data_stream();
    Box::pin(
        futures::stream::unfold((inner, conn, gap), |(mut inner, conn, gap)| async move {
            let evicted = async {
                match &conn {
                    Some(ConnHandle(c)) => c.evicted().await,
                    None => std::future::pending().await,
                }
            };
            let next = tokio::select! {
                next = inner.next() => next,
                _ = tokio::time::sleep(gap) => Some(Err(axum::Error::new(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no bytes arrived for {} seconds", gap.as_secs()),
                )))),
                _ = evicted => Some(Err(axum::Error::new(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the file arrived too slowly while the server was busy",
                )))),
            };
            let item = match next? {
                Ok(chunk) => {
                    if let Some(ConnHandle(c)) = &conn {
                        c.received(chunk.len());
                    }
                    Ok(chunk)
                }
                Err(e) => Err(std::io::Error::other(e.to_string())),
            };
            Some((item, (inner, conn, gap)))
        })
        // A refusal drains what is left, which may be nothing.
        .fuse(),
    )
}

/// Reads and discards what is left of a refused body (at most [`DRAIN_BYTES`] for at most
/// [`DRAIN_TIME`]), so that a client writing its whole body before reading gets the answer.
pub async fn drain(body: &mut Paced) {
    let drained = tokio::time::timeout(DRAIN_TIME, async {
        let mut read = 0usize;
        while let Some(Ok(chunk)) = body.next().await {
            read += chunk.len();
            if read > DRAIN_BYTES {
                break;
            }
        }
    })
    .await;
    if drained.is_err() {
        tracing::debug!("a refused upload took too long to read; closing");
    }
}

/// A refusal after (part of) a body was left unread: the connection closes after it.
pub fn refused(error: AppError) -> Response {
    let mut response = ApiError(error).into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

fn header_text(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Receives one upload from `body` (the whole body, or the first file of a multipart body).
/// On a refusal, what is left of the body is drained before the answer.
pub async fn receive(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    body: &mut Paced,
) -> Result<Upload, Response> {
    let content_type = header_text(headers, header::CONTENT_TYPE).unwrap_or_default();
    let received = match multer::parse_boundary(&content_type) {
        Ok(boundary) => {
            let mut parts = multer::Multipart::new(&mut *body, boundary);
            let mut got = None;
            loop {
                match parts.next_field().await {
                    Ok(Some(field))
                        if field.file_name().is_some() || field.name() == Some("file") =>
                    {
                        let incoming = Incoming {
                            name: field.file_name().unwrap_or("upload").to_string(),
                            content_type: field.content_type().map(|m| m.to_string()),
                            declared: None,
                        };
                        got = Some(
                            state
                                .engine
                                .uploads()
                                .receive(caller, incoming, field)
                                .await,
                        );
                        break;
                    }
                    Ok(Some(_)) => continue,
                    Ok(None) => break,
                    Err(e) => {
                        got = Some(Err(AppError::bad_request(format!(
                            "the multipart body could not be read: {e}"
                        ))));
                        break;
                    }
                }
            }
            got.unwrap_or_else(|| {
                Err(AppError::invalid(vec![model::FieldError::new(
                    "file",
                    "the form holds no file: choose one",
                )]))
            })
        }
        Err(_) => {
            let name = match header_text(headers, FILE_NAME) {
                Some(raw) => match percent_decode(&raw) {
                    Some(name) => name,
                    None => {
                        drain(body).await;
                        return Err(refused(AppError::bad_request(format!(
                            "{FILE_NAME} must be the file's name, percent-encoded UTF-8"
                        ))));
                    }
                },
                None => String::new(),
            };
            let incoming = Incoming {
                name,
                content_type: Some(content_type).filter(|t| !t.is_empty()),
                declared: header_text(headers, header::CONTENT_LENGTH).and_then(|v| v.parse().ok()),
            };
            state
                .engine
                .uploads()
                .receive(caller, incoming, &mut *body)
                .await
        }
    };
    match received {
        Ok(upload) => Ok(upload),
        Err(error) => {
            let unread = matches!(
                error.code,
                ErrorCode::PayloadTooLarge
                    | ErrorCode::TooManyRequests
                    | ErrorCode::Forbidden
                    | ErrorCode::Unauthorized
                    | ErrorCode::InvalidParams
            );
            if unread {
                drain(body).await;
            }
            Err(refused(error))
        }
    }
}

/// `POST /api/v1/uploads`: 201 with the upload and its `Location`.
pub async fn upload(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let conn = parts.extensions.get::<ConnHandle>().cloned();
    let mut body = paced(body, conn.clone(), state.body_limits.timeout);
    let answer = match receive(&state, &caller, &parts.headers, &mut body).await {
        Ok(upload) => {
            let location = format!("/api/v1/uploads/{}", upload.id);
            let mut response = (StatusCode::CREATED, Json(upload)).into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, v);
            }
            response
        }
        Err(response) => response,
    };
    if let Some(ConnHandle(c)) = &conn {
        c.answered();
    }
    answer
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct UploadsQuery {
    /// The id of the last upload of the previous page.
    before: Option<String>,
    /// Uploads in the page (default 100, at most 1,000).
    limit: Option<u32>,
}

/// `GET /api/v1/uploads?before=&limit=`: a page of the caller's uploads, newest first; the
/// next page is the one `before` this page's last, and an empty page is the end.
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<UploadsQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<Upload>>> {
    let Query(q) = query.map_err(|e| AppError::bad_request(e.body_text()))?;
    let limit = q.limit.unwrap_or(engine::uploads::UPLOADS_PAGE);
    let Ok(before) = q.before.as_deref().map(UploadId::parse).transpose() else {
        // No upload of the caller's has that id: there is no page after it.
        return Ok(Json(Vec::new()));
    };
    Ok(Json(
        state
            .engine
            .uploads()
            .list(&caller, before.as_ref(), limit)
            .await?,
    ))
}

/// `GET /api/v1/uploads/{id}`.
pub async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Upload>> {
    Ok(Json(
        state
            .engine
            .uploads()
            .get(&caller, &engine::requested::upload_id(&id)?)
            .await?,
    ))
}

/// `DELETE /api/v1/uploads/{id}`: 204; 409 for an upload a job used.
pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = match engine::requested::upload_id(&id) {
        Ok(id) => id,
        Err(none) => {
            // A read-only token is refused before any upload is looked for.
            caller.may_write()?;
            return Err(none.into());
        }
    };
    state.engine.uploads().delete(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/jobs/{id}/outputs`.
pub async fn outputs(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Output>>> {
    let id = engine::requested::job_id(&id)?;
    Ok(Json(state.engine.jobs().outputs(&caller, &id).await?))
}

/// `Content-Disposition: attachment` naming `name` for every browser: a plain ASCII
/// `filename` (other characters, quotes and backslashes as `_`) and the exact UTF-8 name as
/// `filename*` (RFC 6266, RFC 5987).
pub fn attachment(name: &str) -> String {
    let plain: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "attachment; filename=\"{plain}\"; filename*=UTF-8''{}",
        model::url_encode(name)
    )
}

/// `GET /api/v1/jobs/{id}/outputs/{name}`: the file, as an attachment, with `Range` support.
pub async fn download(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, name)): Path<(String, String)>,
    request: Request,
) -> ApiResult<Response> {
    let id = engine::requested::job_id(&id)?;
    let (output, path) = state.engine.jobs().output(&caller, &id, &name).await?;
    let mime: mime::Mime = output
        .content_type
        .parse()
        .unwrap_or(mime::APPLICATION_OCTET_STREAM);
    let served = tower_http::services::ServeFile::new_with_mime(&path, &mime)
        .oneshot(request)
        .await
        .map_err(|e| AppError::internal_because("the output could not be read", e))?;
    if served.status() == StatusCode::NOT_FOUND {
        return Err(AppError::not_found().into());
    }
    let mut response = served.map(Body::new);
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&attachment(&output.name)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attachment_names_the_file_for_old_and_new_browsers() {
        assert_eq!(
            attachment("rejected rows.csv"),
            "attachment; filename=\"rejected rows.csv\"; filename*=UTF-8''rejected%20rows.csv"
        );
        let odd = attachment("März \"q\"\\.csv");
        assert!(
            odd.starts_with("attachment; filename=\"M_rz _q__.csv\";"),
            "{odd}"
        );
        assert!(
            odd.ends_with("filename*=UTF-8''M%C3%A4rz%20%22q%22%5C.csv"),
            "{odd}"
        );
    }
}
