//! What a job's row says, computed once from the job, its pace, its place in line and the
//! clock: the server renders a row with it and the browser rewrites the row with it as the job
//! moves (`bind`), so both say the same. A queued job's place in line (or the pause, limit or
//! jobs that hold it back) is said by the server alone ([`queue_text`]): the browser asks for
//! the sentence (`server_fns::load_queue_text`), so the words of limits, pauses and waits, and
//! the reading of their JSON, stay out of its bundle.

use super::super::progress_bar::{bar_level, indeterminate, is_run, progress_said, progress_text};
use super::super::words::{limit_key, limit_words};
use crate::format::{self, Style};
use crate::i18n::Text;
use crate::model::{Job, JobStatus, QueueInfo};
use crate::pace::{self, Pace};
use crate::zone::Zone;

/// A row's texts and the attributes that change with the job.
#[derive(Debug, Clone, PartialEq)]
pub struct RowTexts {
    pub status: JobStatus,
    /// Succeeded with warnings: its own word, shape and colour.
    pub warned: bool,
    pub icon: &'static str,
    pub word: &'static str,
    /// What its Re-run button says ([`rerun_word`]).
    pub rerun: &'static str,
    pub stalled: bool,
    /// "12s", how long a stalled job has been silent.
    pub stalled_for: String,
    pub progress: String,
    pub attempt: String,
    pub pace: String,
    pub message: String,
    /// The message is its program's own text, shown as written (not Headway's words).
    pub programs_message: bool,
    pub error: Option<String>,
    /// When a queued job that waits for its time (or a retry) starts.
    pub starts: Option<String>,
    /// A queued job's place in line, or what holds it back ([`queue_text`], said by the server).
    pub queue: Option<String>,
    /// Its priority's name, unless it is normal.
    pub priority: Option<&'static str>,
    /// "started" or "queued", before the time it names.
    pub when_word: &'static str,
    /// The instant the row's "when" names: its start, or its creation while it waits.
    pub when_at: i64,
    /// How long it ran ("–" before it starts).
    pub took: String,
    pub finished_at: Option<i64>,
    /// The first screen's one line: progress, pace and message, or when it starts, or why it
    /// waits.
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

/// Everything a row of `j` says at `now`; `queue` is what [`queue_text`] said of its place in
/// line.
/// What a job's Re-run does, in its button's words: a workflow run that ended without
/// succeeding runs again only what did not succeed.
pub fn rerun_word(t: Text, j: &Job) -> &'static str {
    let run = j.kind == crate::model::workflows::WORKFLOW_KIND && j.parent.is_none();
    match run && j.status.is_terminal() && j.status != JobStatus::Succeeded {
        true => t.job_rerun_failed(),
        false => t.job_rerun(),
    }
}

pub fn row_texts(
    t: Text,
    zone: &Zone,
    j: &Job,
    p: &Pace,
    queue: Option<&str>,
    now: i64,
) -> RowTexts {
    let title = crate::names::job_title(j);
    let starts = start_text(t, zone, j, now);
    let queue = queue
        .filter(|_| j.status == JobStatus::Queued)
        .map(str::to_string);
    let pace = pace_text(t, j, p);
    // A run's and a fan-out's bar say where they stand themselves, in the reader's words.
    let message = match is_run(j) {
        true => String::new(),
        false => t.said_or(j.progress.said.as_ref(), &j.progress.message),
    };
    let line = match j.status {
        JobStatus::Queued => starts
            .clone()
            .or_else(|| queue.clone())
            .unwrap_or_else(|| format!("{} {}", t.job_queued(), format::ago(t, j.created_at, now))),
        _ => [progress_said(t, j), pace.clone(), message.clone()]
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
        warned: j.succeeded_with_warnings(),
        icon: outcome_icon(j.status, j.succeeded_with_warnings()),
        word: crate::components::outcome_name(t, j.status, j.succeeded_with_warnings()),
        rerun: rerun_word(t, j),
        stalled: p.stalled_ms.is_some(),
        stalled_for: p.stalled_ms.map(|s| format::span(t, s)).unwrap_or_default(),
        progress: progress_said(t, j),
        attempt: attempt_text(t, j).unwrap_or_default(),
        pace,
        message,
        programs_message: j.progress.said.is_none() && !j.progress.message.is_empty(),
        error: error_text(t, j),
        starts,
        queue,
        priority: (j.priority != crate::model::Priority::NORMAL)
            .then(|| crate::components::priority_name(t, j.priority)),
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

/// "3rd in line · starts in about 40s", "next in line for import_csv · starting any moment",
/// "⏸ demo is paused (by ada since Nov 24, 14:02): it starts once resumed", "Waiting: 10 a
/// minute per customer_id acme, next in 12s", "Waiting for 2 jobs: 1 running, 1 succeeded".
pub fn queue_text(
    t: Text,
    zone: &crate::zone::Zone,
    q: &QueueInfo,
    kind: &str,
    now: i64,
) -> String {
    if let Some(pause) = &q.paused {
        let since = format::when(t, zone, Style::Short, pause.paused_at, now);
        return match pause.kind.as_str() {
            crate::model::EVERY_KIND => t.queue_every_kind_paused(pause.paused_by.as_str(), since),
            _ => t.queue_kind_paused(kind, pause.paused_by.as_str(), since),
        };
    }
    if let Some(wait) = &q.needs {
        return after_wait_text(t, wait);
    }
    if let Some(wait) = &q.limit {
        return limit_wait_text(t, wait, now);
    }
    let place = match (q.queue_position, q.waiting_for.as_str()) {
        (Some(n), "kind") => t.queue_place_for(n, kind),
        (Some(n), _) => t.queue_place(n),
        (None, "kind") => t.queue_waiting_for(kind),
        (None, "tags") => t.queue_waiting_for_tags(q.requires.join(t.list_separator())),
        (None, _) => t.queue_waiting().to_string(),
    };
    match q.expected_start_at {
        Some(at) if at > now + 1_000 => t.queue_starts_in(place, format::span(t, at - now)),
        Some(_) => t.queue_starting_any_moment(place),
        None => place,
    }
}

/// Where the jobs stand that a job runs after: "Waiting for 2 jobs: 1 running, 1 succeeded".
pub fn after_wait_text(t: Text, wait: &crate::model::AfterWait) -> String {
    let counts = [
        (wait.queued, t.after_queued(wait.queued)),
        (wait.running, t.after_running(wait.running)),
        (wait.succeeded, t.after_succeeded(wait.succeeded)),
        (wait.ended, t.after_ended(wait.ended)),
    ];
    let parts: Vec<String> = counts
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(_, text)| text)
        .collect();
    t.queue_after(wait.total, parts.join(t.list_separator()))
}

/// Why a job waits on a limit: the limit, its key and, for a rate, when the next start is
/// allowed ("Waiting: at most 1 at once per repository web", "…, next in 12s").
pub fn limit_wait_text(t: Text, wait: &crate::model::limits::LimitWait, now: i64) -> String {
    let words = limit_words(t, &wait.limit);
    let what = match wait.limit.per {
        crate::model::limits::Per::Kind => words,
        _ => t.limit_for_key(
            words,
            limit_key(t, &wait.limit.per, &wait.key, wait.name.as_deref()),
        ),
    };
    match wait.next_at.map(|at| at - now) {
        Some(left) if left >= 1_000 => t.queue_limit_next(what, format::span(t, left)),
        Some(_) => t.queue_limit_next_soon(what),
        None => t.queue_limit(what),
    }
}

/// "starts at Nov 24, 2026, 14:00:00 · in 1h 59m" for a queued job that waits for its time;
/// "attempt 2 of 5 in 40s" for one that waits to be tried again.
pub fn start_text(t: Text, zone: &crate::zone::Zone, j: &Job, now: i64) -> Option<String> {
    let at = j.run_after.filter(|_| j.status == JobStatus::Queued)?;
    let left = at - now;
    if j.waits_to_retry() {
        return Some(match left > 0 {
            true => t.job_retry_in(j.attempt, j.max_attempts, format::span(t, left.max(1000))),
            false => t.job_retry_any_moment(j.attempt, j.max_attempts),
        });
    }
    (left > 0).then(|| {
        t.job_starts_at(
            format::when(t, zone, Style::Full, at, now),
            format::span(t, left.max(1000)),
        )
    })
}

/// "attempt 2 of 5" for a job past its first attempt, or that may take several: its running
/// attempt, or the one that ended it.
pub fn attempt_text(t: Text, j: &Job) -> Option<String> {
    (j.attempt > 1 && !j.waits_to_retry()).then(|| t.job_attempt(j.attempt, j.max_attempts))
}

/// A job's error: "attempt 1 failed: timeout: …" while it waits to be tried again.
pub fn error_text(t: Text, j: &Job) -> Option<String> {
    let e = j.error.as_ref()?;
    let message = t.said_or(e.said.as_ref(), &e.message);
    Some(match j.waits_to_retry() {
        true => t.job_attempt_failed(j.attempt - 1, e.code.as_str(), message),
        false => t.job_error(e.code.as_str(), message),
    })
}

/// A status's shape, a warning sign for a job that succeeded with warnings
/// ([`crate::model::Job::succeeded_with_warnings`]).
pub fn outcome_icon(status: JobStatus, warned: bool) -> &'static str {
    match (status, warned) {
        (JobStatus::Succeeded, true) => "⚠",
        _ => status_icon(status),
    }
}

/// A shape per status, so that status never rests on colour alone.
pub fn status_icon(status: JobStatus) -> &'static str {
    match status {
        JobStatus::Queued => "◷",
        JobStatus::Running => "▶",
        JobStatus::Cancelling => "◼",
        JobStatus::Succeeded => "✔",
        JobStatus::Failed => "✖",
        JobStatus::Cancelled => "⊘",
        JobStatus::Interrupted => "⚡",
    }
}

/// `elapsed 12s · 5.0 steps/s · about 10s left`; `ran 42s` once finished.
pub fn pace_text(t: Text, j: &Job, p: &Pace) -> String {
    let Some(elapsed) = p.elapsed_ms else {
        return String::new();
    };
    if j.status.is_terminal() {
        return t.job_ran(format::span(t, elapsed));
    }
    let mut parts = vec![t.job_elapsed(format::span(t, elapsed))];
    // A run's bar counts thousandths of steps: no rate of them is worth reading.
    if let Some(rate) = p.per_second.filter(|_| !is_run(j)) {
        parts.push(pace::rate_text(t, rate, &j.progress.unit));
    }
    if let Some(eta) = p.eta_ms {
        parts.push(t.job_left(format::span(t, eta.max(1000))));
    }
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use crate::model::ids::testing::named;
    use crate::model::Progress;

    fn job(status: JobStatus, current: u64, total: Option<u64>) -> Job {
        let mut j = Job::queued(
            named("0123456789abcdef"),
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
    fn headways_words_are_said_in_the_readers_language_and_a_programs_as_written() {
        let mut j = job(JobStatus::Running, 3, Some(10));
        j.progress.say(crate::model::words::jobs::step_of(3, 10));
        let say = |lang, j: &Job| {
            let p = crate::pace::pace(j, None, 7_000, 60_000);
            row_texts(Text::of(lang), &Zone::default(), j, &p, None, 7_000)
        };
        assert_eq!(say(Lang::En, &j).message, "step 3 of 10");
        assert_eq!(say(Lang::ZhCn, &j).message, "第 3 步，共 10 步");
        j.progress.set_text("copying photos".into());
        assert_eq!(say(Lang::ZhCn, &j).message, "copying photos");
        let mut failed = job(JobStatus::Failed, 3, Some(10));
        failed.error = Some(crate::model::JobError::words(
            "exit_7",
            crate::model::words::jobs::exited(7),
        ));
        let zh = error_text(Text::of(Lang::ZhCn), &failed).unwrap();
        assert!(
            zh.contains("exit_7") && zh.contains("程序退出，退出状态为 7"),
            "{zh}"
        );
        failed.error = Some(crate::model::JobError::new("exit_7", "disk full"));
        let zh = error_text(Text::of(Lang::ZhCn), &failed).unwrap();
        assert!(zh.contains("disk full"), "{zh}");
    }

    #[test]
    fn a_finished_row_names_its_end() {
        let x = texts(&job(JobStatus::Failed, 3, Some(10)), 20_000);
        assert_eq!(x.finished_at, Some(12_000));
        assert_eq!(x.bar.class, "bar level-danger");
        assert_eq!(x.took, "10s");
    }

    #[test]
    fn re_run_says_what_it_runs_as_a_run_moves() {
        use crate::model::workflows::WORKFLOW_KIND;
        let mut run = job(JobStatus::Running, 1, Some(3));
        run.kind = WORKFLOW_KIND.into();
        assert_eq!(texts(&run, 7_000).rerun, "Re-run");
        for status in [
            JobStatus::Failed,
            JobStatus::Cancelled,
            JobStatus::Interrupted,
        ] {
            run.status = status;
            assert_eq!(
                texts(&run, 20_000).rerun,
                "Re-run failed steps",
                "{status:?}"
            );
        }
        run.status = JobStatus::Succeeded;
        assert_eq!(texts(&run, 20_000).rerun, "Re-run");
        // A fan-out's own job, a step of a run, and any other job re-run whole.
        run.status = JobStatus::Failed;
        run.parent = Some(run.id.clone());
        assert_eq!(texts(&run, 20_000).rerun, "Re-run");
        assert_eq!(
            texts(&job(JobStatus::Failed, 3, Some(10)), 20_000).rerun,
            "Re-run"
        );
    }

    #[test]
    fn a_job_held_by_a_limit_says_which_and_when_the_next_may_start() {
        use crate::model::limits::{Limit, LimitWait, Per};
        let wait = |per: Per, window_ms: Option<i64>, key: &str, next_at: Option<i64>| LimitWait {
            limit: Limit {
                kind: "demo".into(),
                per,
                max: if window_ms.is_some() { 10 } else { 1 },
                window_ms,
            },
            key: key.into(),
            name: None,
            used: Some(1),
            next_at,
        };
        let en = Text::of(Lang::En);
        let rate = wait(
            Per::Param("customer_id".into()),
            Some(60_000),
            "acme",
            Some(13_000),
        );
        assert_eq!(
            limit_wait_text(en, &rate, 1_000),
            "Waiting: 10 a minute per customer_id acme, next in 12s"
        );
        // A start already allowed, or a clock behind: never a time gone by.
        assert_eq!(
            limit_wait_text(en, &rate, 20_000),
            "Waiting: 10 a minute per customer_id acme, next any moment"
        );
        let running = wait(Per::Param("log_every".into()), None, "1", None);
        assert_eq!(
            limit_wait_text(en, &running, 0),
            "Waiting: at most 1 at once per log_every 1"
        );
        assert_eq!(
            limit_wait_text(en, &wait(Per::Param("p".into()), None, "", None), 0),
            "Waiting: at most 1 at once per p (none)"
        );
        assert_eq!(
            limit_wait_text(en, &wait(Per::Kind, None, "", None), 0),
            "Waiting: at most 1 at once"
        );
        assert_eq!(
            limit_wait_text(Text::of(Lang::ZhCn), &running, 0),
            "等待：每个 log_every 同时最多 1 个（1）"
        );
    }

    #[test]
    fn a_job_whose_tags_no_worker_offers_says_which_it_waits_for() {
        let q = QueueInfo {
            queue_position: None,
            expected_start_at: None,
            waiting_for: "tags".into(),
            needs: None,
            limit: None,
            paused: None,
            requires: vec!["gpu".into(), "eu".into()],
        };
        let zone = Zone::default();
        assert_eq!(
            queue_text(Text::of(Lang::En), &zone, &q, "render", 0),
            "waiting for a worker with gpu, eu; none connected"
        );
        assert_eq!(
            queue_text(Text::of(Lang::ZhCn), &zone, &q, "render", 0),
            "等待提供 gpu、eu 的工作节点；没有连接的节点"
        );
    }

    #[test]
    fn a_job_after_others_says_where_they_stand() {
        use crate::model::{AfterWait, AfterWhen};
        let en = Text::of(Lang::En);
        let wait = AfterWait::of(
            AfterWhen::Succeeded,
            [JobStatus::Running, JobStatus::Succeeded],
        );
        assert_eq!(
            after_wait_text(en, &wait),
            "Waiting for 2 jobs: 1 running, 1 succeeded"
        );
        let one = AfterWait::of(AfterWhen::Ended, [JobStatus::Queued]);
        assert_eq!(after_wait_text(en, &one), "Waiting for 1 job: 1 queued");
        let ended = AfterWait::of(
            AfterWhen::Ended,
            [JobStatus::Failed, JobStatus::Cancelled, JobStatus::Running],
        );
        assert_eq!(
            after_wait_text(en, &ended),
            "Waiting for 3 jobs: 1 running, 2 ended otherwise"
        );
        assert_eq!(
            after_wait_text(Text::of(Lang::ZhCn), &wait),
            "等待 2 个任务：1 个运行中、1 个已成功"
        );
    }
}
