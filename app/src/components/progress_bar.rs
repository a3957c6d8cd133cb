//! A job's progress bar: `role="progressbar"`, coloured by level, with the numbers in text for
//! assistive technology.

use crate::i18n::Text;
use crate::model::{Job, JobStatus, Level};

/// The colour a job's bar shows: its own level, unless its status says more.
pub fn bar_level(job: &Job) -> Level {
    match job.status {
        JobStatus::Failed => Level::Danger,
        JobStatus::Cancelled | JobStatus::Interrupted => Level::Warning,
        _ => job.progress.level,
    }
}

/// `42 of 100 steps (42%)`, or `42 steps` when the total is unknown; a workflow run's in steps
/// (`1.3 of 3 steps (43%)`), a fan-out's in items.
pub fn progress_text(t: Text, job: &Job) -> String {
    let p = &job.progress;
    if let (Some(total), Some(pct), true) = (p.total, p.percent(), is_run(job)) {
        // Counted in thousandths of a step (an item).
        let (n, pct) = (total / 1000, format!("{pct:.0}"));
        return match job.step.is_some() {
            true => t.progress_items(t.int((p.current / 1000) as i64), t.int(n as i64), pct),
            false => {
                let tenths = (p.current.min(total) / 100) as i64;
                let done = match tenths % 10 {
                    0 => t.int(tenths / 10),
                    _ => t.decimal(tenths as f64 / 10.0, 1),
                };
                t.progress_run(done, t.int(n as i64), pct)
            }
        };
    }
    let unit = if p.unit.is_empty() {
        String::new()
    } else {
        format!(" {}", unit_word(t, &p.unit))
    };
    match (p.total, p.percent()) {
        (Some(total), Some(pct)) => t.progress_of(p.current, total, unit, format!("{pct:.0}")),
        _ => t.progress_count(p.current, unit),
    }
}

/// A unit as the reader says it: the built-in kinds' in the reader's words, any other (a
/// command kind's, a program's) as its kind gives it.
pub fn unit_word(t: Text, unit: &str) -> String {
    let word = match unit {
        "steps" => t.unit_steps(),
        "items" => t.unit_items(),
        "rows" => t.unit_rows(),
        "bytes" => t.unit_bytes(),
        "jobs" => t.unit_jobs(),
        other => return other.to_string(),
    };
    word.to_string()
}

/// Whether `job` is a workflow's run, or a fan-out's group of items (one of its steps): its bar
/// is counted by the store in thousandths of a step, or of an item, and says so itself.
pub fn is_run(job: &Job) -> bool {
    job.kind == crate::model::workflows::WORKFLOW_KIND
}

/// What a row says of its progress: nothing until the job has something to say (a queued job,
/// or one that has reported neither a step nor a total), so that no bare "0" reads as progress.
pub fn progress_said(t: Text, job: &Job) -> String {
    let p = &job.progress;
    let nothing = p.current == 0 && (p.total.is_none() || job.status == JobStatus::Queued);
    if nothing {
        String::new()
    } else {
        progress_text(t, job)
    }
}

/// Whether the bar moves without a total: only while the job runs. A queued job's bar stays
/// still and empty (it has not started), as does a finished one's.
pub fn indeterminate(job: &Job) -> bool {
    job.progress.percent().is_none()
        && matches!(job.status, JobStatus::Running | JobStatus::Cancelling)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::testing::named;
    use crate::model::Progress;

    fn job(status: JobStatus, current: u64, total: Option<u64>) -> Job {
        Job {
            id: named("x"),
            kind: "demo".into(),
            params: serde_json::Value::Null,
            status,
            progress: Progress {
                current,
                total,
                unit: "steps".into(),
                ..Default::default()
            },
            error: None,
            created_at: 0,
            started_at: None,
            finished_at: None,
            event_id: 1,
            timeout_ms: None,
            origin: None,
            run_after: None,
            attempt: 1,
            max_attempts: 1,
            next_attempt_at: None,
            attempts: Vec::new(),
            schedule_id: None,
            scheduled_for: None,
            outputs: Vec::new(),
            result: None,
            priority: Default::default(),
            after: None,
            parent: None,
            step: None,
            started_by: None,
            cancelled_by: None,
        }
    }

    fn en() -> Text {
        Text::of(crate::i18n::Lang::En)
    }

    #[test]
    fn text_states_numbers_and_percent() {
        assert_eq!(
            progress_text(en(), &job(JobStatus::Running, 42, Some(100))),
            "42 of 100 steps (42%)"
        );
        assert_eq!(
            progress_text(en(), &job(JobStatus::Running, 1500, None)),
            "1,500 steps"
        );
        assert_eq!(
            progress_text(
                Text::of(crate::i18n::Lang::ZhCn),
                &job(JobStatus::Running, 1500, Some(3000))
            ),
            "1,500 / 3,000 步（50%）"
        );
    }

    #[test]
    fn a_run_counts_steps_and_a_fan_out_items_in_the_readers_words() {
        let mut run = job(JobStatus::Running, 1_300, Some(3_000));
        run.kind = crate::model::workflows::WORKFLOW_KIND.into();
        run.progress.unit = String::new();
        assert_eq!(progress_text(en(), &run), "1.3 of 3 steps (43%)");
        run.progress.current = 2_000;
        assert_eq!(progress_text(en(), &run), "2 of 3 steps (67%)");
        let zh = Text::of(crate::i18n::Lang::ZhCn);
        assert_eq!(progress_text(zh, &run), "2 / 3 个步骤（67%）");
        let demo = job(JobStatus::Running, 20, Some(300));
        assert_eq!(progress_text(zh, &demo), "20 / 300 步（7%）");
        let mut frames = demo.clone();
        frames.progress.unit = "frames".into();
        assert_eq!(progress_text(zh, &frames), "20 / 300 frames（7%）");
        let mut items = run.clone();
        items.step = Some("each photo".into());
        items.progress = Progress {
            current: 8_415_000,
            total: Some(10_000_000),
            ..Default::default()
        };
        assert_eq!(progress_text(en(), &items), "8,415 of 10,000 items (84%)");
    }

    #[test]
    fn a_queued_job_neither_moves_nor_says_zero() {
        let queued = job(JobStatus::Queued, 0, None);
        assert!(!indeterminate(&queued));
        assert_eq!(progress_said(en(), &queued), "");
        let running = job(JobStatus::Running, 0, None);
        assert!(indeterminate(&running));
        assert_eq!(progress_said(en(), &running), "");
        assert_eq!(
            progress_said(en(), &job(JobStatus::Running, 0, Some(10))),
            "0 of 10 steps (0%)"
        );
        assert_eq!(
            progress_said(en(), &job(JobStatus::Succeeded, 3, None)),
            "3 steps"
        );
        assert!(!indeterminate(&job(JobStatus::Succeeded, 3, None)));
    }

    #[test]
    fn failures_are_red_whatever_the_level() {
        assert_eq!(
            bar_level(&job(JobStatus::Failed, 1, Some(2))),
            Level::Danger
        );
        assert_eq!(
            bar_level(&job(JobStatus::Interrupted, 1, Some(2))),
            Level::Warning
        );
        assert_eq!(
            bar_level(&job(JobStatus::Running, 1, Some(2))),
            Level::Success
        );
    }
}
