//! How fast a running job goes: elapsed time, a smoothed rate, the time left, and whether it
//! has stalled. Pure functions of the job, its progress samples and the clock, the same on the
//! server and in the browser, so that both render the same text.

use crate::model::{Job, JobStatus};

/// How quickly the smoothed rate follows a change of speed: a sample this far apart from the
/// previous one weighs 63% (an exponential moving average over time).
const SMOOTHING_MS: f64 = 5_000.0;
/// No rate or ETA before the job has run this long: early estimates jump around.
const MIN_ELAPSED_MS: i64 = 3_000;
/// An ETA longer than this is not an estimate anyone can use.
const MAX_ETA_MS: i64 = 30 * 24 * 3600 * 1000;

/// The smoothed rate of a job's progress, fed with its samples as they arrive.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RateMeter {
    last: Option<(i64, u64)>,
    /// Units per millisecond.
    rate: Option<f64>,
}

impl RateMeter {
    /// Takes a sample: `current` units done at `at` (Unix ms). Samples out of order are ignored;
    /// a job whose count goes back (a restart) starts a new estimate.
    pub fn observe(&mut self, at: i64, current: u64) {
        match self.last {
            Some((t0, _)) if at <= t0 => return,
            Some((t0, c0)) if current >= c0 => {
                let dt = (at - t0) as f64;
                let instant = (current - c0) as f64 / dt;
                let weight = 1.0 - (-dt / SMOOTHING_MS).exp();
                self.rate = Some(match self.rate {
                    Some(r) => r + weight * (instant - r),
                    None => instant,
                });
            }
            Some(_) => self.rate = None,
            None => {}
        }
        self.last = Some((at, current));
    }

    /// Units per millisecond, once two samples have been seen.
    pub fn rate(&self) -> Option<f64> {
        self.rate
    }
}

/// What a running bar shows besides its numbers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pace {
    pub elapsed_ms: Option<i64>,
    /// Units per second.
    pub per_second: Option<f64>,
    pub eta_ms: Option<i64>,
    /// How long a running job has been silent, once that is longer than the stall limit.
    pub stalled_ms: Option<i64>,
}

/// The pace of `job` at `now`, with the smoothed rate if the browser has measured one (else the
/// average since the start).
pub fn pace(job: &Job, measured: Option<f64>, now: i64, stall_ms: u64) -> Pace {
    let Some(started) = job.started_at else {
        return Pace::default();
    };
    let end = job
        .finished_at
        .filter(|_| job.status.is_terminal())
        .unwrap_or(now);
    let elapsed = (end - started).max(0);
    let mut pace = Pace {
        elapsed_ms: Some(elapsed),
        ..Pace::default()
    };
    if !matches!(job.status, JobStatus::Running) {
        return pace;
    }
    let silent = now - job.progress.at.unwrap_or(started).max(started);
    // A workflow's run moves when its steps do; a step waiting for a slot is not a stall.
    let run = job.kind == crate::model::workflows::WORKFLOW_KIND;
    if silent >= stall_ms as i64 && !run {
        pace.stalled_ms = Some(silent);
    }
    if elapsed < MIN_ELAPSED_MS || job.progress.current == 0 {
        return pace;
    }
    let rate = measured.unwrap_or(job.progress.current as f64 / elapsed as f64);
    if !(rate.is_finite() && rate > 0.0) || pace.stalled_ms.is_some() {
        return pace;
    }
    pace.per_second = Some(rate * 1000.0);
    if let Some(total) = job.progress.total.filter(|t| *t > job.progress.current) {
        let eta = ((total - job.progress.current) as f64 / rate) as i64;
        pace.eta_ms = (eta <= MAX_ETA_MS).then_some(eta);
    }
    pace
}

/// `12.5/s`, `3/s`, `0.4/s`, `2.1/min` for slow jobs.
pub fn rate_text(t: crate::i18n::Text, per_second: f64, unit: &str) -> String {
    let unit = if unit.is_empty() {
        String::new()
    } else {
        format!(" {}", crate::components::unit_word(t, unit))
    };
    if per_second >= 100.0 {
        t.rate_per_second(t.int(per_second.round() as i64), unit)
    } else if per_second >= 1.0 {
        t.rate_per_second(t.decimal(per_second, 1), unit)
    } else if per_second * 60.0 >= 1.0 {
        t.rate_per_minute(t.decimal(per_second * 60.0, 1), unit)
    } else {
        t.rate_per_minute(t.decimal(per_second * 60.0, 2), unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::testing::named;
    use crate::model::Progress;

    fn running(current: u64, total: Option<u64>, started: i64, sampled: Option<i64>) -> Job {
        Job {
            id: named("x"),
            kind: "demo".into(),
            params: serde_json::Value::Null,
            status: JobStatus::Running,
            progress: Progress {
                current,
                total,
                at: sampled,
                ..Default::default()
            },
            error: None,
            created_at: 0,
            started_at: Some(started),
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

    #[test]
    fn the_meter_smooths_and_restarts_when_the_count_goes_back() {
        let mut m = RateMeter::default();
        m.observe(0, 0);
        assert_eq!(m.rate(), None, "one sample says nothing about speed");
        m.observe(1000, 10);
        assert!((m.rate().unwrap() - 0.01).abs() < 1e-9);
        m.observe(2000, 40); // 30 per second now: the estimate moves part of the way
        let r = m.rate().unwrap();
        assert!(r > 0.01 && r < 0.03, "{r}");
        m.observe(1500, 99);
        assert_eq!(m.rate(), Some(r), "an older sample is ignored");
        m.observe(3000, 5);
        assert_eq!(m.rate(), None);
    }

    #[test]
    fn eta_is_shown_only_when_meaningful() {
        // 50 of 100 after 10 s: 5/s, 10 s left.
        let p = pace(
            &running(50, Some(100), 0, Some(9_900)),
            None,
            10_000,
            30_000,
        );
        assert_eq!(p.elapsed_ms, Some(10_000));
        assert_eq!(p.per_second, Some(5.0));
        assert_eq!(p.eta_ms, Some(10_000));
        assert_eq!(p.stalled_ms, None);
        // Too early, nothing done, or no total: no ETA.
        assert_eq!(
            pace(&running(5, Some(100), 0, Some(900)), None, 1_000, 30_000).eta_ms,
            None
        );
        assert_eq!(
            pace(&running(0, Some(100), 0, None), None, 10_000, 30_000).per_second,
            None
        );
        let unknown = pace(&running(50, None, 0, Some(9_900)), None, 10_000, 30_000);
        assert_eq!((unknown.per_second, unknown.eta_ms), (Some(5.0), None));
        // A measured rate wins over the average.
        assert_eq!(
            pace(
                &running(50, Some(100), 0, Some(9_900)),
                Some(0.01),
                10_000,
                30_000
            )
            .eta_ms,
            Some(5_000)
        );
    }

    #[test]
    fn a_silent_running_job_is_stalled_and_gets_no_eta() {
        let p = pace(
            &running(50, Some(100), 0, Some(10_000)),
            None,
            45_000,
            30_000,
        );
        assert_eq!(p.stalled_ms, Some(35_000));
        assert_eq!(p.eta_ms, None);
        // Never sampled: silent since it started.
        assert_eq!(
            pace(&running(0, None, 0, None), None, 31_000, 30_000).stalled_ms,
            Some(31_000)
        );
        // A workflow's run is never stalled: its steps say whether they are.
        let mut run = running(1000, Some(3000), 0, Some(10_000));
        run.kind = crate::model::workflows::WORKFLOW_KIND.into();
        assert_eq!(pace(&run, None, 45_000, 30_000).stalled_ms, None);
        let mut done = running(100, Some(100), 0, Some(1_000));
        done.status = JobStatus::Succeeded;
        done.finished_at = Some(4_000);
        let p = pace(&done, None, 99_000, 30_000);
        assert_eq!(
            (p.elapsed_ms, p.stalled_ms, p.eta_ms),
            (Some(4_000), None, None)
        );
    }

    #[test]
    fn rates_read_naturally() {
        let en = crate::i18n::Text::of(crate::i18n::Lang::En);
        assert_eq!(rate_text(en, 1234.0, "rows"), "1,234 rows/s");
        assert_eq!(rate_text(en, 12.34, ""), "12.3/s");
        assert_eq!(rate_text(en, 0.5, "files"), "30.0 files/min");
        let zh = crate::i18n::Text::of(crate::i18n::Lang::ZhCn);
        assert_eq!(rate_text(zh, 0.5, "files"), "30.0 files/分钟");
    }
}
