//! Operator endpoints under `/api/v1/admin`, for the caller who presents the operator token
//! ([`crate::identity`] decides that): `POST /notices` `{"text": "..."}` shows a notice to every
//! user, `DELETE /notices` withdraws them. `headway notice` is their command-line client.
//!
//! The token is `--admin-token` if given; otherwise the content of `admin.token` next to the
//! database, created (readable by its owner only) on first start, so that the operator of the
//! machine can use `headway notice` with no setup.

use crate::api::{ApiJson, ApiResult};
use crate::startup::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use engine::Caller;
use model::Notice;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Where the generated token lives for a database in `db_dir`.
pub fn token_path(db_dir: &Path) -> PathBuf {
    db_dir.join("admin.token")
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
    let token = format!("{}{}", engine::new_id(), engine::new_id()).replace('-', "");
    write_private(path, &token)?;
    Ok(token)
}

#[cfg(unix)]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(content.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    std::fs::write(path, content)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeBody {
    text: String,
}

pub async fn post_notice(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<NoticeBody>,
) -> ApiResult<(StatusCode, Json<Notice>)> {
    let notice = state.engine.post_notice(&caller, &body.text).await?;
    Ok((StatusCode::CREATED, Json(notice)))
}

pub async fn withdraw_notices(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<serde_json::Value>> {
    let n = state.engine.withdraw_notices(&caller).await?;
    Ok(Json(serde_json::json!({ "withdrawn": n })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_created_once_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = token_path(dir.path());
        let first = load_or_create_token(None, &path).unwrap();
        assert!(first.len() >= 64);
        assert_eq!(load_or_create_token(None, &path).unwrap(), first);
        assert_eq!(
            load_or_create_token(Some(" given "), &path).unwrap(),
            "given"
        );
    }
}
