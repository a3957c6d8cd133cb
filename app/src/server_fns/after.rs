//! The start form's jobs to run after ("Then run…" on a job's page): the ids of the hidden
//! `after` field and the `when` the reader chose, as the engine takes them.

use crate::model::{AfterWhen, AppError, JobId};

/// The form's field the jobs to run after are posted, and refused, under.
pub const AFTER: &str = "after";
/// The form's field of the condition.
pub const WHEN: &str = "when";

/// `after` (ids separated by commas or spaces) and `when` (empty for the default) as a start's
/// jobs to run after; `None` when `after` names none.
pub fn asked(after: &str, when: &str) -> Result<Option<engine::AfterAsked>, AppError> {
    let t = crate::i18n::t();
    let jobs = after
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|id| !id.is_empty())
        .map(|id| {
            JobId::try_from(id.to_string())
                .map_err(|_| AppError::invalid_field(AFTER, t.start_after_bad(id)))
        })
        .collect::<Result<Vec<JobId>, AppError>>()?;
    let when = match when.trim() {
        "" => AfterWhen::default(),
        name => AfterWhen::parse(name)
            .ok_or_else(|| AppError::invalid_field(WHEN, t.start_when_bad()))?,
    };
    Ok((!jobs.is_empty()).then_some(engine::AfterAsked { jobs, when }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_names_jobs_by_id_and_a_condition_by_name() {
        let a = JobId::random();
        let b = JobId::random();
        let asked_for = asked(&format!(" {a}, {b} "), "ended").unwrap().unwrap();
        assert_eq!(asked_for.jobs, [a.clone(), b]);
        assert_eq!(asked_for.when, AfterWhen::Ended);
        assert_eq!(
            asked(a.as_ref(), "").unwrap().unwrap().when,
            AfterWhen::Succeeded
        );
        assert!(asked("  ", "ended").unwrap().is_none());
        assert_eq!(
            asked("nope", "").unwrap_err().field(AFTER),
            Some("not a job id: nope")
        );
        assert!(asked(a.as_ref(), "later")
            .unwrap_err()
            .field(WHEN)
            .is_some());
    }
}
