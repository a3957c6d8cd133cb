//! External jobs' reports over the JSON API (docs/EXTERNAL.md): `POST /api/v1/jobs` with
//! `kind: "external"` starts one (the engine's `start_any`) and answers its report token once, and
//! its program reports with that token ([`report`]).

use crate::error::{ApiJson, ApiResult};
use crate::identity::{Credential, Identity};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use engine::Caller;
use model::external::{Report, ReportReply};
use model::AppError;

/// `POST /api/v1/jobs/{id}/report`, with the job's report token: 200 with what was kept and the
/// job's status (`cancelling`: stop the program); 422 for a report that is not well formed,
/// 409 once the job has ended.
pub async fn report(
    State(state): State<AppState>,
    Extension(identity): Extension<Identity>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(report): ApiJson<Report>,
) -> ApiResult<Json<ReportReply>> {
    // The identity layer lets a report token through for its own job only.
    let job = match &identity.credential {
        Credential::Report(job) if *job == id => job.clone(),
        _ => {
            return Err(AppError::forbidden(
                "reports are sent with the job's report token (Authorization: Bearer hwr_…), \
                 which starting the external job answered",
            )
            .into())
        }
    };
    Ok(Json(
        state
            .engine
            .jobs()
            .report(caller.user(), &job, report)
            .await?,
    ))
}
