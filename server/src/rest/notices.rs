//! Operator endpoints under `/api/v1/admin`, for the caller who presents the operator token
//! ([`crate::identity`] decides that): `POST /notices` `{"text": "..."}` shows a notice to every
//! user, `DELETE /notices` withdraws them. `headway notice` is their command-line client.

use crate::error::{ApiJson, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use engine::Caller;
use model::Notice;
use serde::{Deserialize, Serialize};

/// A notice's text: one line with something besides spaces in it (what is around it is
/// trimmed), at most [`engine::engine::MAX_NOTICE_CHARS`] characters.
const ONE_LINE: &str = r"^[^\r\n]*\S[^\r\n]*$";

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeBody {
    #[schemars(length(max = engine::engine::MAX_NOTICE_CHARS), regex(pattern = ONE_LINE))]
    text: String,
}

pub async fn post_notice(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<NoticeBody>,
) -> ApiResult<(StatusCode, Json<Notice>)> {
    let notice = state.engine.jobs().post_notice(&caller, &body.text).await?;
    Ok((StatusCode::CREATED, Json(notice)))
}

/// What `DELETE /admin/notices` answers.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Withdrawn {
    /// How many notices were in force and are withdrawn.
    withdrawn: u64,
}

pub async fn withdraw_notices(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Withdrawn>> {
    let n = state.engine.jobs().withdraw_notices(&caller).await?;
    Ok(Json(Withdrawn {
        withdrawn: n as u64,
    }))
}
