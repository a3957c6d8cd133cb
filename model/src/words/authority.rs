//! The words of the policy's refusals (`engine::authority`): what a principal may not do, and
//! who may.

use crate::Words;
use std::fmt::Display;

pub fn worker_token_only_works() -> Words {
    Words::new(
        "engine-worker-token-only-works",
        "a worker token may only register its workers, take their work and report on it \
         (/api/v1/workers…)",
    )
}

pub fn workers_need_worker_token() -> Words {
    Words::new(
        "engine-workers-need-worker-token",
        "workers connect with a worker token (Authorization: Bearer hwk_…), which an admin makes \
         (headway workers token NAME, or POST /api/v1/worker-tokens)",
    )
}

/// `role` is the role's name (`viewer`, `member`, `operator`, `admin`).
pub fn may_not_start(role: impl Display) -> Words {
    Words::new(
        "engine-may-not-start",
        format!("a {role} may not start jobs"),
    )
    .with("role", role)
}

pub fn viewer_may_not_change_jobs() -> Words {
    Words::new(
        "engine-viewer-may-not-change-jobs",
        "a viewer may not change jobs",
    )
}

pub fn only_own_jobs(role: impl Display) -> Words {
    Words::new(
        "engine-only-own-jobs",
        format!("a {role} may only act on their own jobs"),
    )
    .with("role", role)
}

pub fn only_operator() -> Words {
    Words::new(
        "engine-only-operator",
        "only an operator or an admin may do this",
    )
}

pub fn only_admin() -> Words {
    Words::new("engine-only-admin", "only an admin may do this")
}

pub fn no_such_upload() -> Words {
    Words::new("engine-no-such-upload", "no such upload")
}

pub fn viewer_may_not_change_schedules() -> Words {
    Words::new(
        "engine-viewer-may-not-change-schedules",
        "a viewer may not change schedules",
    )
}

pub fn only_own_schedules(role: impl Display) -> Words {
    Words::new(
        "engine-only-own-schedules",
        format!("a {role} may only change their own schedules"),
    )
    .with("role", role)
}

pub fn viewer_may_not_register_webhooks() -> Words {
    Words::new(
        "engine-viewer-may-not-register-webhooks",
        "a viewer may not register webhooks",
    )
}

pub fn only_admin_hears_all() -> Words {
    Words::new(
        "engine-only-admin-hears-all",
        "only an admin may register a webhook that hears of everyone's jobs",
    )
}

pub fn only_owner_changes_webhook() -> Words {
    Words::new(
        "engine-only-owner-changes-webhook",
        "only its owner or an admin may change a webhook",
    )
}

pub fn token_only_reads() -> Words {
    Words::new("engine-token-only-reads", "this token may only read")
}

pub fn operator_needs_token() -> Words {
    Words::new(
        "engine-operator-needs-token",
        "operator requests need `Authorization: Bearer <token>` (see admin.token next to the \
         database)",
    )
}

pub fn no_such_schedule() -> Words {
    Words::new("engine-no-such-schedule", "no such schedule")
}

/// A bulk request that names no job.
pub fn bulk_no_ids() -> Words {
    Words::new("engine-bulk-no-ids", "`ids` is empty")
}

/// Every function here with sample values.
pub fn samples() -> Vec<Words> {
    vec![
        worker_token_only_works(),
        workers_need_worker_token(),
        may_not_start("viewer"),
        viewer_may_not_change_jobs(),
        only_own_jobs("member"),
        only_operator(),
        only_admin(),
        no_such_upload(),
        viewer_may_not_change_schedules(),
        only_own_schedules("operator"),
        viewer_may_not_register_webhooks(),
        only_admin_hears_all(),
        only_owner_changes_webhook(),
        token_only_reads(),
        operator_needs_token(),
        no_such_schedule(),
        bulk_no_ids(),
    ]
}
