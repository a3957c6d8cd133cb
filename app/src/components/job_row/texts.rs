//! What a job's row says, computed once from the job, its pace, its place in line and the
//! clock: the server renders a row with it and the browser rewrites the row with it as the job
//! moves (`bind`), so both say the same.

use super::super::progress_bar::{bar_level, indeterminate, progress_said, progress_text};
use super::super::words::status_name;
use super::{attempt_text, error_text, pace_text, queue_text, start_text, status_icon};
use crate::format;
use crate::i18n::Text;
use crate::model::{Job, JobStatus, QueueInfo};
use crate::pace::Pace;
use crate::zone::Zone;

/// A row's texts and the attributes that change with the job.
#[derive(Debug, Clone, PartialEq)]
pub struct RowTexts {
    pub status: JobStatus,
    pub icon: &'static str,
    pub word: &'static str,
    pub stalled: bool,
    /// "12s", how long a stalled job has been silent.
    pub stalled_for: String,
    pub progress: String,
    pub attempt: String,
    pub pace: String,
    pub message: String,
    pub error: Option<String>,
    /// When a queued job that waits for its time (or a retry) starts.
    pub starts: Option<String>,
    /// A queued job's place in line, or its kind's pause.
    pub queue: Option<String>,
    /// "started" or "queued", before the time it names.
    pub when_word: &'static str,
    /// The instant the row's "when" names: its start, or its creation while it waits.
    pub when_at: i64,
    /// How long it ran ("–" before it starts).
    pub took: String,
    pub finished_at: Option<i64>,
    /// The first screen's one line: progress, pace and message, or when it starts.
    pub line: String,
    pub bar: BarTexts,
}

/// A progress bar's attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct BarTexts {
    pub class: String,
    pub label: String,
    pub level: &'static str,
    pub max: Option<String>,
    pub now: Option<String>,
    pub text: String,
    /// The fill's width, `42.0%`.
    pub width: String,
}

/// Everything a row of `j` says at `now`.
pub fn row_texts(
    t: Text,
    zone: &Zone,
    j: &Job,
    p: &Pace,
    queue: Option<&QueueInfo>,
    now: i64,
) -> RowTexts {
    let title = crate::names::job_title(j);
    let kind_title = crate::names::kind_title(&j.kind);
    let starts = start_text(t, zone, j, now);
    let queue = queue
        .filter(|_| j.status == JobStatus::Queued)
        .map(|q| queue_text(t, zone, q, &kind_title, now));
    let pace = pace_text(t, j, p);
    let line = match j.status {
        JobStatus::Queued => starts
            .clone()
            .unwrap_or_else(|| format!("{} {}", t.job_queued(), format::ago(t, j.created_at, now))),
        _ => [
            progress_said(t, j),
            pace.clone(),
            j.progress.message.clone(),
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" · "),
    };
    let level = bar_level(j).as_str();
    let moving = if indeterminate(j) {
        " indeterminate"
    } else {
        ""
    };
    RowTexts {
        status: j.status,
        icon: status_icon(j.status),
        word: status_name(t, j.status),
        stalled: p.stalled_ms.is_some(),
        stalled_for: p.stalled_ms.map(|s| format::span(t, s)).unwrap_or_default(),
        progress: progress_said(t, j),
        attempt: attempt_text(t, j).unwrap_or_default(),
        pace,
        message: j.progress.message.clone(),
        error: error_text(t, j),
        starts,
        queue,
        when_word: match j.started_at {
            Some(_) => t.job_started(),
            None => t.job_queued(),
        },
        when_at: j.started_at.unwrap_or(j.created_at),
        took: p
            .elapsed_ms
            .map_or_else(|| "–".to_string(), |ms| format::span(t, ms)),
        finished_at: j.finished_at.filter(|_| j.status.is_terminal()),
        line,
        bar: BarTexts {
            class: format!("bar level-{level}{moving}"),
            label: t.progress_label(title),
            level,
            max: j.progress.total.map(|n| n.to_string()),
            now: j
                .progress
                .total
                .map(|n| j.progress.current.min(n).to_string()),
            text: match j.status {
                JobStatus::Queued if j.progress.current == 0 => {
                    t.progress_not_started().to_string()
                }
                _ => progress_text(t, j),
            },
            width: format!("{:.1}%", j.progress.percent().unwrap_or(0.0)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use crate::model::Progress;

    fn job(status: JobStatus, current: u64, total: Option<u64>) -> Job {
        let mut j = Job::queued(
            "0123456789abcdef".into(),
            "demo",
            serde_json::Value::Null,
            1_000,
        );
        j.status = status;
        j.progress = Progress {
            current,
            total,
            unit: "steps".into(),
            message: "working".into(),
            ..Default::default()
        };
        j.started_at = (status != JobStatus::Queued).then_some(2_000);
        j.finished_at = status.is_terminal().then_some(12_000);
        j.event_id = 1;
        j
    }

    fn texts(j: &Job, now: i64) -> RowTexts {
        let t = Text::of(Lang::En);
        let p = crate::pace::pace(j, None, now, 60_000);
        row_texts(t, &Zone::default(), j, &p, None, now)
    }

    #[test]
    fn a_running_row_says_its_progress_pace_and_message_and_its_bar_follows() {
        let x = texts(&job(JobStatus::Running, 42, Some(100)), 7_000);
        assert_eq!(x.word, "running");
        assert_eq!(x.progress, "42 of 100 steps (42%)");
        assert_eq!(x.when_word, "started");
        assert_eq!(x.when_at, 2_000);
        assert_eq!(x.took, "5s");
        assert_eq!(
            x.line,
            "42 of 100 steps (42%) · elapsed 5s · 8.4 steps/s · about 6s left · working"
        );
        assert_eq!(x.bar.width, "42.0%");
        assert_eq!(x.bar.now.as_deref(), Some("42"));
        assert_eq!(x.bar.class, "bar level-success");
        assert_eq!(x.finished_at, None);
        assert!(!x.stalled);
    }

    #[test]
    fn a_queued_row_says_since_when_it_waits_and_its_bar_stands_still() {
        let x = texts(&job(JobStatus::Queued, 0, None), 31_000);
        assert_eq!(x.when_word, "queued");
        assert_eq!(x.when_at, 1_000);
        assert_eq!(x.progress, "");
        assert_eq!(x.took, "–");
        assert_eq!(x.line, "queued 30 s ago");
        assert_eq!(x.bar.class, "bar level-success", "still: not indeterminate");
        assert_eq!(x.bar.text, "not started");
    }

    #[test]
    fn a_finished_row_names_its_end() {
        let x = texts(&job(JobStatus::Failed, 3, Some(10)), 20_000);
        assert_eq!(x.finished_at, Some(12_000));
        assert_eq!(x.bar.class, "bar level-danger");
        assert_eq!(x.took, "10s");
    }
}
