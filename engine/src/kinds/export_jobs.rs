//! `export_jobs`: the jobs its owner sees (their own; everyone's for an operator or an admin,
//! as their role is when it runs) that match a filter, the dashboard's (statuses, kind, search)
//! and a time range, written newest first as one output to download: `jobs.csv` (a header row,
//! then one row per job, times in RFC 3339 UTC) or `jobs.jsonl` (one job per line, as
//! `GET /api/v1/jobs/{id}` answers it). Its counts are its result.
//!
//! A first pass counts the matching jobs (the bar's total), the second writes them a page at a
//! time. The output appears only once whole: a failed or cancelled export leaves none.

use super::{JobContext, Kind, KindEnv, RunResult};
use crate::store::JobFilter;
use model::words::kinds;
use model::{Job, JobError, JobStatus, ScheduleId, Words};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub struct ExportJobs;

/// Jobs read from the store at a time.
const PAGE: u32 = 500;

/// Exports your jobs that match a filter as a file to download: CSV for a spreadsheet, or JSON
/// Lines with every detail.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Export jobs")]
#[garde(context(KindEnv))]
pub struct ExportJobsParams {
    /// CSV for a spreadsheet, or JSON Lines with every detail of each job.
    #[schemars(title = "Format", extend("default" = "csv"))]
    #[serde(default)]
    #[garde(skip)]
    pub format: Format,
    /// Only jobs in these statuses (all when none is chosen).
    // A list, or one comma-separated string (`failed,cancelled`), as the history's address
    // writes it.
    #[schemars(title = "Statuses")]
    #[serde(default, deserialize_with = "statuses")]
    #[garde(skip)]
    pub status: Vec<JobStatus>,
    /// Only jobs of this kind (all when empty).
    #[schemars(title = "Kind")]
    #[serde(default)]
    #[schemars(length(max = 100))]
    #[garde(skip)]
    pub kind: String,
    /// Only the jobs one schedule started (its id).
    #[schemars(title = "Schedule")]
    #[serde(default)]
    #[garde(custom(|s: &str, _: &KindEnv| schedule_id(s).map(drop).map_err(super::refuse)))]
    pub schedule: String,
    /// Only jobs whose id starts with this, or whose message or error contains it.
    #[schemars(title = "Search")]
    #[serde(default)]
    #[schemars(length(max = 200))]
    #[garde(skip)]
    pub search: String,
    /// Only jobs created at or after this time: 2026-11-24, 2026-11-24T14:00 (UTC) or an RFC
    /// 3339 time with its offset.
    #[schemars(title = "From")]
    #[serde(default)]
    #[garde(custom(|t: &str, _: &KindEnv| bound(t, false).map(drop).map_err(super::refuse)))]
    pub from: String,
    /// Only jobs created before this time (a date: up to the end of that day, UTC).
    #[schemars(title = "To")]
    #[serde(default)]
    #[garde(custom(|t: &str, _: &KindEnv| bound(t, true).map(drop).map_err(super::refuse)))]
    pub to: String,
}

/// The formats an export is written in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Format {
    #[default]
    #[serde(rename = "csv")]
    Csv,
    #[serde(rename = "jsonl")]
    JsonLines,
}

impl Format {
    fn file_name(self) -> &'static str {
        match self {
            Format::Csv => "jobs.csv",
            Format::JsonLines => "jobs.jsonl",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::JsonLines => "application/jsonl; charset=utf-8",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::JsonLines => "jsonl",
        }
    }
}

/// Statuses as a list, or as one comma-separated string.
fn statuses<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<JobStatus>, D::Error> {
    use serde::de::Error;
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrText {
        List(Vec<JobStatus>),
        Text(String),
    }
    match ListOrText::deserialize(d)? {
        ListOrText::List(list) => Ok(list),
        ListOrText::Text(text) => text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|name| {
                JobStatus::parse(name)
                    .ok_or_else(|| D::Error::custom(format!("\"{name}\" is not a status")))
            })
            .collect(),
    }
}

fn schedule_id(text: &str) -> Result<Option<ScheduleId>, Words> {
    match text.trim() {
        "" => Ok(None),
        id => ScheduleId::parse(id)
            .map(Some)
            .map_err(|_| kinds::schedule_id()),
    }
}

/// A bound of the time range in Unix ms (`None`: no bound). A date alone is the start of that
/// day in UTC, or for the end of the range (`end`), the start of the next.
fn bound(text: &str, end: bool) -> Result<Option<i64>, Words> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(Some(t.as_millisecond()));
    }
    let utc = |civil: jiff::civil::DateTime| {
        civil
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp().as_millisecond())
            .map_err(kinds::time_out_of_range)
    };
    // A date alone (a date and time parses as a date too).
    let date = match text.contains(['T', 't', ' ']) {
        true => None,
        false => text.parse::<jiff::civil::Date>().ok(),
    };
    if let Some(date) = date {
        let day = match end {
            true => date.tomorrow().map_err(kinds::time_out_of_range)?,
            false => date,
        };
        return utc(day.to_datetime(jiff::civil::Time::midnight())).map(Some);
    }
    if let Ok(civil) = text.parse::<jiff::civil::DateTime>() {
        return utc(civil).map(Some);
    }
    Err(kinds::not_a_time(text))
}

/// The store's filter for the parameters (already validated).
fn filter(p: &ExportJobsParams) -> Result<JobFilter, JobError> {
    let bad = |message: String| JobError::new("bad_params", message);
    let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let created_from = bound(&p.from, false).map_err(|e| bad(format!("from: {e}")))?;
    let created_to = bound(&p.to, true).map_err(|e| bad(format!("to: {e}")))?;
    Ok(JobFilter {
        statuses: p.status.clone(),
        kind: text(&p.kind),
        schedule: schedule_id(&p.schedule).map_err(|e| bad(format!("schedule: {e}")))?,
        search: text(&p.search),
        created_from,
        created_to,
        limit: PAGE,
        ..JobFilter::default()
    })
}

impl Kind for ExportJobs {
    type Params = ExportJobsParams;
    const NAME: &'static str = "export_jobs";
    const OPENS_FILES: bool = false;

    async fn run(p: ExportJobsParams, ctx: &mut JobContext) -> RunResult {
        let format = p.format;
        let filter = filter(&p)?;

        ctx.say(model::words::jobs::counting_jobs()).await;
        let mut total = 0u64;
        let mut page = filter.clone();
        loop {
            let jobs = ctx.owners_jobs(&page).await?;
            total += jobs.len() as u64;
            match next_page(&jobs) {
                Some(before) => page.before = Some(before),
                None => break,
            }
            if ctx.is_cancelled() {
                return Ok(());
            }
        }
        ctx.set_total(Some(total), "jobs").await;
        ctx.say(model::words::jobs::writing_file(format.file_name()))
            .await;

        let mut out = ctx
            .create_output(format.file_name(), format.content_type())
            .await?;
        if format == Format::Csv {
            out.write(&csv_rows(&[], true)?).await?;
        }
        let mut written = 0u64;
        let mut page = filter;
        loop {
            let jobs = ctx.owners_jobs(&page).await?;
            let bytes = match format {
                Format::Csv => csv_rows(&jobs, false)?,
                Format::JsonLines => json_lines(&jobs),
            };
            out.write(&bytes).await?;
            written += jobs.len() as u64;
            // Jobs started since the count make the total grow, never the bar run past it.
            if written > total {
                total = written;
                ctx.set_total(Some(total), "jobs").await;
            }
            ctx.set_current(written).await;
            match next_page(&jobs) {
                Some(before) => page.before = Some(before),
                None => break,
            }
            if ctx.is_cancelled() {
                return Ok(()); // cancelled; the unfinished output is dropped with nothing kept
            }
        }
        let output = out.finish().await?;
        ctx.say(model::words::jobs::jobs_exported(written)).await;
        ctx.set_result(json!({
            "jobs": written,
            "format": format.name(),
            "file": output.name,
            "bytes": output.size,
        }))
        .await?;
        Ok(())
    }
}

/// The key of the page after `jobs` (`None`: that was the last page).
fn next_page(jobs: &[Job]) -> Option<String> {
    match jobs.len() as u32 {
        PAGE => jobs.last().map(|j| j.id.to_string()),
        _ => None,
    }
}

/// The columns of the CSV export.
const COLUMNS: [&str; 19] = [
    "id",
    "kind",
    "status",
    "created_at",
    "started_at",
    "finished_at",
    "duration_ms",
    "attempt",
    "max_attempts",
    "progress",
    "total",
    "unit",
    "message",
    "error_code",
    "error",
    "schedule_id",
    "rerun_of",
    "params",
    "result",
];

/// `jobs` as CSV rows (after the header row, with `header`).
fn csv_rows(jobs: &[Job], header: bool) -> Result<Vec<u8>, JobError> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    let failed =
        |e: csv::Error| JobError::new("export_failed", format!("a row could not be written: {e}"));
    if header {
        w.write_record(COLUMNS).map_err(failed)?;
    }
    let time = |ms: Option<i64>| {
        ms.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
            .map(|t| t.to_string())
            .unwrap_or_default()
    };
    let number = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
    for job in jobs {
        let duration = match (job.started_at, job.finished_at) {
            (Some(s), Some(f)) => Some(f.saturating_sub(s).max(0) as u64),
            _ => None,
        };
        let record: [String; 19] = [
            job.id.to_string(),
            job.kind.clone(),
            job.status.as_str().to_string(),
            time(Some(job.created_at)),
            time(job.started_at),
            time(job.finished_at),
            number(duration),
            job.attempt.to_string(),
            job.max_attempts.to_string(),
            job.progress.current.to_string(),
            number(job.progress.total),
            job.progress.unit.clone(),
            job.progress.message.clone(),
            job.error
                .as_ref()
                .map(|e| e.code.clone())
                .unwrap_or_default(),
            job.error
                .as_ref()
                .map(|e| e.message.clone())
                .unwrap_or_default(),
            job.schedule_id
                .as_ref()
                .map(|s| s.to_string())
                .unwrap_or_default(),
            job.origin
                .as_ref()
                .map(|o| o.to_string())
                .unwrap_or_default(),
            job.params.to_string(),
            job.result
                .as_ref()
                .map(|r| r.to_string())
                .unwrap_or_default(),
        ];
        // Every cell, whatever its column: a kind, a unit or an error code is user data too.
        w.write_record(record.iter().map(|cell| inert(cell)))
            .map_err(failed)?;
    }
    w.into_inner()
        .map_err(|e| JobError::new("export_failed", format!("rows could not be written: {e}")))
}

/// A cell as a spreadsheet shows it and never runs it: text that would start a formula (`=`,
/// `+`, `-`, `@`, a tab or a carriage return first) is prefixed with `'`. Every cell of the
/// export goes through it.
fn inert(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

/// `jobs` as JSON Lines.
fn json_lines(jobs: &[Job]) -> Vec<u8> {
    let mut out = Vec::new();
    for job in jobs {
        // A job always serializes.
        if let Ok(line) = serde_json::to_vec(job) {
            out.extend_from_slice(&line);
            out.push(b'\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Harness, OWNER};
    use model::ids::testing::named;
    use model::Progress;

    fn params(value: serde_json::Value) -> ExportJobsParams {
        serde_json::from_value(value).unwrap()
    }

    /// Stores a finished job of `owner`.
    async fn finished(h: &Harness, owner: &str, kind: &str, message: &str, at: i64) -> Job {
        let job = Job {
            progress: Progress {
                message: message.into(),
                ..Progress::default()
            },
            ..Job::queued(model::JobId::random(), kind, json!({"n": 1}), at)
        };
        h.committer.create(&named(owner), job).await.unwrap()
    }

    #[test]
    fn times_are_dates_utc_wall_clocks_or_rfc_3339() {
        assert_eq!(bound("", false), Ok(None));
        assert_eq!(bound("2026-11-24", false), Ok(Some(1_795_478_400_000)));
        // A date ends the range at the end of that day.
        assert_eq!(
            bound("2026-11-24", true),
            Ok(Some(1_795_478_400_000 + 86_400_000))
        );
        assert_eq!(
            bound("2026-11-24T14:00", false),
            Ok(Some(1_795_478_400_000 + 14 * 3_600_000))
        );
        assert_eq!(
            bound("2026-11-24T14:00:00+01:00", false),
            Ok(Some(1_795_478_400_000 + 13 * 3_600_000))
        );
        let e = bound("yesterday", false).unwrap_err();
        assert!(e.english.contains("\"yesterday\" is not a time"), "{e}");
    }

    #[test]
    fn a_bad_filter_is_refused_before_the_job_starts_naming_the_field() {
        let env = KindEnv::files(crate::files::Files::whole("."));
        let registry = crate::kinds::Registry::builtin();
        for (field, value, says) in [
            ("format", json!("xlsx"), "must be one of: csv, jsonl"),
            (
                "status",
                json!("succeeded,done"),
                "\"done\" is not one of: queued",
            ),
            (
                "status",
                json!(["failed", "done"]),
                "\"done\" is not one of: queued",
            ),
            ("from", json!("soon"), "\"soon\" is not a time"),
            ("to", json!("2026-13-01"), "is not a time"),
            ("schedule", json!("nightly"), "must be a schedule's id"),
        ] {
            let e = registry
                .parse("export_jobs", json!({ field: value }), &env)
                .unwrap_err();
            assert_eq!(e.fields.len(), 1, "{field}: {e:?}");
            assert_eq!(e.fields[0].field, field);
            assert!(e.fields[0].message.contains(says), "{field}: {e:?}");
        }
        // Statuses as a list or as the history's comma-separated text, stored as a list.
        for status in [json!("failed, cancelled"), json!(["failed", "cancelled"])] {
            let stored = registry
                .parse("export_jobs", json!({ "status": status }), &env)
                .unwrap();
            assert_eq!(stored["status"], json!(["failed", "cancelled"]));
            assert_eq!(stored["format"], "csv");
        }
    }

    #[test]
    fn format_and_statuses_are_a_choice_and_a_set_in_the_form() {
        let info = crate::kinds::describe::kind::<ExportJobs>();
        let param = |n: &str| info.params.iter().find(|p| p.name == n).unwrap().clone();
        let format = param("format");
        assert_eq!(format.kind, model::ParamType::Choice);
        assert_eq!(format.choices, ["csv", "jsonl"]);
        assert_eq!(format.default, Some(json!("csv")));
        let status = param("status");
        assert_eq!(status.kind, model::ParamType::Set);
        let all: Vec<&str> = JobStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(status.choices, all);
        assert_eq!(param("kind").kind, model::ParamType::String);
    }

    #[test]
    fn text_that_would_be_a_formula_stays_text() {
        assert_eq!(inert("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(inert("-1 rows"), "'-1 rows");
        assert_eq!(inert("copied 3 files"), "copied 3 files");
        assert_eq!(inert(""), "");
    }

    #[tokio::test]
    async fn the_csv_holds_the_owners_matching_jobs_newest_first_and_the_counts_are_the_result() {
        let h = Harness::new().await;
        let a = finished(&h, OWNER, "demo", "=1+1", 1_000).await;
        let b = finished(&h, OWNER, "batch", "second", 2_000).await;
        let c = finished(&h, OWNER, "demo", "third, \"quoted\"", 3_000).await;
        // Someone else's job is never in it.
        finished(&h, "someone-else", "demo", "not yours", 2_500).await;
        let mut job = h.start("export_jobs", json!({})).await;
        let p = params(json!({"kind": "demo"}));
        assert_eq!(ExportJobs::run(p, &mut job.ctx).await, Ok(()));

        let stored = h.job(&mut job).await;
        assert_eq!(stored.outputs.len(), 1);
        assert_eq!(stored.outputs[0].name, "jobs.csv");
        assert_eq!(stored.outputs[0].content_type, "text/csv; charset=utf-8");
        let bytes = std::fs::read(h.blobs.output(&job.id, "jobs.csv")).unwrap();
        let mut rows = csv::Reader::from_reader(bytes.as_slice());
        assert_eq!(rows.headers().unwrap().iter().collect::<Vec<_>>(), COLUMNS);
        let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
        let ids: Vec<&str> = rows.iter().map(|r| &r[0]).collect();
        assert_eq!(ids, [c.id.as_str(), a.id.as_str()]);
        assert_eq!(&rows[0][12], "third, \"quoted\"");
        assert_eq!(&rows[1][12], "'=1+1");
        assert_eq!(&rows[1][3], "1970-01-01T00:00:01Z");
        assert_eq!(&rows[1][17], r#"{"n":1}"#);
        assert!(!ids.contains(&b.id.as_str()));
        let result = stored.result.unwrap();
        assert_eq!(result["jobs"], 2);
        assert_eq!(result["file"], "jobs.csv");
        assert_eq!(result["bytes"], bytes.len());
        assert_eq!(stored.progress.total, Some(2));
        assert_eq!(stored.progress.current, 2);
        assert_eq!(stored.progress.unit, "jobs");
    }

    #[tokio::test]
    async fn json_lines_hold_whole_jobs_over_many_pages_within_the_time_range() {
        let h = Harness::new().await;
        let n = PAGE as i64 + 20;
        for i in 0..n {
            finished(&h, OWNER, "demo", "row", 10_000 + i).await;
        }
        let mut job = h.start("export_jobs", json!({})).await;
        // From the 11th job on, before the last 5.
        let p = params(json!({
            "format": "jsonl",
            "from": "1970-01-01T00:00:10.010Z",
            "to": jiff::Timestamp::from_millisecond(10_000 + n - 5).unwrap().to_string(),
        }));
        ExportJobs::run(p, &mut job.ctx).await.unwrap();
        let text = std::fs::read_to_string(h.blobs.output(&job.id, "jobs.jsonl")).unwrap();
        let jobs: Vec<Job> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(jobs.len() as i64, n - 15);
        assert_eq!(jobs[0].created_at, 10_000 + n - 6);
        assert_eq!(jobs.last().unwrap().created_at, 10_010);
        assert!(jobs.windows(2).all(|w| w[0].created_at > w[1].created_at));
        let stored = h.job(&mut job).await;
        assert_eq!(stored.result.unwrap()["jobs"], json!(n - 15));
        assert_eq!(
            stored.outputs[0].content_type,
            "application/jsonl; charset=utf-8"
        );
    }

    #[tokio::test]
    async fn a_cancelled_export_leaves_no_output() {
        let h = Harness::new().await;
        for i in 0..(PAGE as i64 + 1) {
            finished(&h, OWNER, "demo", "row", i).await;
        }
        let mut job = h.start("export_jobs", json!({})).await;
        job.stop.cancel();
        ExportJobs::run(params(json!({})), &mut job.ctx)
            .await
            .unwrap();
        let stored = h.job(&mut job).await;
        assert!(stored.outputs.is_empty());
        assert!(stored.result.is_none());
    }
}
