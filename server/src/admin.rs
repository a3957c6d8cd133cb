//! Operator endpoints under `/api/v1/admin`, authorized by a bearer token rather than a session:
//! `POST /notices` `{"text": "..."}` shows a notice to every user, `DELETE /notices` withdraws
//! them. `headway notice` is their command-line client.
//!
//! The token is `--admin-token` if given; otherwise the content of `admin.token` next to the
//! database, created (readable by its owner only) on first start, so that the operator of the
//! machine can use `headway notice` with no setup.

use crate::api::{ApiError, ApiJson, ApiResult};
use crate::startup::AppState;
use app::error::AppError;
use app::model::Notice;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The secret operator requests must present; `None` disables the endpoints.
#[derive(Clone, Default)]
pub struct AdminToken(pub Option<Arc<str>>);

/// Where the generated token lives for a database in `db_dir`.
pub fn token_path(db_dir: Option<&Path>) -> PathBuf {
    db_dir.unwrap_or(Path::new(".")).join("admin.token")
}

/// The configured token, else the one in `path`, created with a fresh random value if missing.
pub fn load_or_create_token(configured: Option<&str>, path: &Path) -> std::io::Result<String> {
    if let Some(t) = configured.map(str::trim).filter(|t| !t.is_empty()) {
        return Ok(t.to_string());
    }
    match std::fs::read_to_string(path) {
        Ok(t) if !t.trim().is_empty() => return Ok(t.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let token = format!("{}{}", app::engine::new_id(), app::engine::new_id()).replace('-', "");
    write_private(path, &token)?;
    Ok(token)
}

#[cfg(unix)]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(content.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    std::fs::write(path, content)
}

/// Compares in time independent of where the first difference is.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn authorize(token: &AdminToken, headers: &HeaderMap) -> Result<(), AppError> {
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match (&token.0, given) {
        (Some(expected), Some(given)) if same_secret(expected.as_bytes(), given.as_bytes()) => Ok(()),
        _ => Err(AppError::unauthorized(
            "operator requests need `Authorization: Bearer <token>` (see admin.token next to the database)",
        )),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeBody {
    text: String,
}

pub async fn post_notice(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NoticeBody>,
) -> ApiResult<(StatusCode, Json<Notice>)> {
    authorize(&state.admin_token, &headers)?;
    let notice = state.engine.post_notice(&body.text).await?;
    Ok((StatusCode::CREATED, Json(notice)))
}

pub async fn withdraw_notices(State(state): State<AppState>, headers: HeaderMap) -> impl IntoResponse {
    match authorize(&state.admin_token, &headers) {
        Ok(()) => match state.engine.withdraw_notices().await {
            Ok(n) => Json(serde_json::json!({ "withdrawn": n })).into_response(),
            Err(e) => ApiError(e).into_response(),
        },
        Err(e) => ApiError(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_created_once_and_then_reused() {
        let dir = std::env::temp_dir().join(format!("headway-admin-{}", app::engine::new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = token_path(Some(&dir));
        let first = load_or_create_token(None, &path).unwrap();
        assert!(first.len() >= 64);
        assert_eq!(load_or_create_token(None, &path).unwrap(), first);
        assert_eq!(load_or_create_token(Some(" given "), &path).unwrap(), "given");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn only_the_exact_bearer_token_is_accepted() {
        let token = AdminToken(Some("s3cret".into()));
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(axum::http::header::AUTHORIZATION, v.parse().unwrap());
            h
        };
        assert!(authorize(&token, &with("Bearer s3cret")).is_ok());
        assert!(authorize(&token, &with("Bearer s3cre")).is_err());
        assert!(authorize(&token, &with("s3cret")).is_err());
        assert!(authorize(&token, &HeaderMap::new()).is_err());
        assert!(authorize(&AdminToken(None), &with("Bearer s3cret")).is_err());
    }
}
