//! Ids as a request names them: a path's segment, a query's value, a server function's
//! argument. A string that is no id of its kind names nothing, so it is answered as an id that
//! names nothing the caller may see is: `not_found` (for a schedule, "no such schedule"), never
//! a word about its form, which would tell a malformed id from another user's.

use model::{AppError, DeliveryId, JobId, ScheduleId, UploadId, WebhookId};

/// The job `id` names; `not_found` for a string that is no job id.
pub fn job_id(id: &str) -> Result<JobId, AppError> {
    JobId::parse(id).map_err(|_| AppError::not_found())
}

/// The upload `id` names; `not_found` for a string that is no upload id.
pub fn upload_id(id: &str) -> Result<UploadId, AppError> {
    UploadId::parse(id).map_err(|_| AppError::not_found())
}

/// The webhook `id` names; `not_found` for a string that is no webhook id.
pub fn webhook_id(id: &str) -> Result<WebhookId, AppError> {
    WebhookId::parse(id).map_err(|_| AppError::not_found())
}

/// The delivery `id` names, if it is a delivery id (`None` names none: see
/// [`crate::webhooks::Webhooks::resend`]).
pub fn delivery_id(id: &str) -> Option<DeliveryId> {
    DeliveryId::parse(id).ok()
}

/// The schedule `id` names; "no such schedule" for a string that is no schedule id.
pub fn schedule_id(id: &str) -> Result<ScheduleId, AppError> {
    ScheduleId::parse(id).map_err(|_| crate::schedules::no_such_schedule())
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::ErrorCode;

    #[test]
    fn a_string_that_is_no_id_names_nothing() {
        for bad in [
            "",
            "nope",
            "%27%3B--",
            "0B7C5E1A-3F2D-4C8E-9A61-5D0E2F4B7C93",
        ] {
            assert_eq!(job_id(bad).unwrap_err(), AppError::not_found());
            assert_eq!(upload_id(bad).unwrap_err(), AppError::not_found());
            assert_eq!(webhook_id(bad).unwrap_err(), AppError::not_found());
            assert_eq!(delivery_id(bad), None);
            let e = schedule_id(bad).unwrap_err();
            assert_eq!(
                (e.code, e.message.as_str()),
                (ErrorCode::NotFound, "no such schedule")
            );
        }
        let id = "0b7c5e1a-3f2d-4c8e-9a61-5d0e2f4b7c93";
        assert_eq!(job_id(id).unwrap(), id);
        assert_eq!(schedule_id(id).unwrap(), id);
    }
}
