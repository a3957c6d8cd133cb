//! The words for the model's values, in the reader's language: a job's status, a role. The
//! values themselves (`failed`, `admin`) stay what the API and the URLs say.

use crate::i18n::Text;
use crate::model::{JobStatus, Role};

/// A status as people read it: "failed", "失败".
pub fn status_name(t: Text, status: JobStatus) -> &'static str {
    match status {
        JobStatus::Queued => t.status_queued(),
        JobStatus::Running => t.status_running(),
        JobStatus::Cancelling => t.status_cancelling(),
        JobStatus::Succeeded => t.status_succeeded(),
        JobStatus::Failed => t.status_failed(),
        JobStatus::Cancelled => t.status_cancelled(),
        JobStatus::Interrupted => t.status_interrupted(),
    }
}

/// A role's name in the reader's language.
pub fn role_name(t: Text, role: Role) -> &'static str {
    match role {
        Role::Viewer => t.role_viewer(),
        Role::Member => t.role_member(),
        Role::Operator => t.role_operator(),
        Role::Admin => t.role_admin(),
    }
}
