//! What a caller may read of the history: pages with filters, counts, the chart, a job's
//! details and log, and the stored events a stream replays. Every read goes through here, so
//! what a caller may see is decided in one place.

use super::Jobs;
use crate::caller::Caller;
use crate::failures::read_failed;
use crate::store::{JobFilter, StoredEvent};
use model::{
    AppError, FailureGroup, HistoryQuery, Job, JobDetail, JobId, JobPage, JobStatus, LogFilter,
    LogLine, MinuteStats, ScheduleId, StatusChange, StatusCount,
};

/// Bytes of log text one read gives (a page of `GET …/log`, of the job page, a step of the
/// `log.txt` download): reads are bounded by the bytes of their lines, not only their number.
pub const LOG_READ_BYTES: usize = 1 << 20;

/// Lines read from the store at a time, however long: what one step holds is bounded by this
/// many of the longest lines ever stored.
const LOG_READ_CHUNK: u32 = 256;

/// `job_id`'s lines after `after`, `limit` at most, stopping at the line that reaches
/// `max_bytes`.
async fn log_after(
    store: &crate::store::Store,
    job_id: &JobId,
    mut after: u64,
    limit: u32,
    max_bytes: usize,
) -> Result<Vec<LogLine>, crate::store::StoreError> {
    let mut lines = Vec::new();
    let mut bytes = 0;
    while (lines.len() as u32) < limit {
        let want = (limit - lines.len() as u32).min(LOG_READ_CHUNK);
        let chunk = store.log_lines(job_id, after, want).await?;
        let short = (chunk.len() as u32) < want;
        for line in chunk {
            bytes += line.line.len();
            after = line.seq;
            lines.push(line);
            if bytes >= max_bytes {
                return Ok(lines);
            }
        }
        if short {
            break;
        }
    }
    Ok(lines)
}

/// `job_id`'s newest lines, oldest first: `limit` at most and no more than `max_bytes` (but
/// at least the newest line); with the number of lines the job has.
async fn log_tail(
    store: &crate::store::Store,
    job_id: &JobId,
    limit: u32,
    max_bytes: usize,
) -> Result<(Vec<LogLine>, u64), crate::store::StoreError> {
    // Sequence numbers go from 1 without gaps: the newest lines are found by their numbers.
    let (_, total) = store.log_tail(job_id, 0).await?;
    let mut newest_first = Vec::new();
    let (mut end, mut bytes) = (total, 0usize);
    'read: while end > 0 && (newest_first.len() as u32) < limit {
        let n = (end.min(u64::from(LOG_READ_CHUNK)) as u32).min(limit - newest_first.len() as u32);
        let chunk = store.log_lines(job_id, end - u64::from(n), n).await?;
        end -= u64::from(n);
        for line in chunk.into_iter().rev() {
            bytes += line.line.len();
            if bytes > max_bytes && !newest_first.is_empty() {
                break 'read;
            }
            newest_first.push(line);
        }
    }
    newest_first.reverse();
    Ok((newest_first, total))
}

impl Jobs {
    /// One page of the caller's history, filtered as `query` says; a bad filter is a
    /// `bad_request` naming it.
    pub async fn history_page(
        &self,
        caller: &Caller,
        query: &HistoryQuery,
    ) -> Result<JobPage, AppError> {
        let mut filter = job_filter(query)?;
        if let Some(text) = &filter.search {
            // The store knows no titles: the kinds and workflows a text names are found here.
            filter.search_names = self.inner.kinds.named_by(text);
            filter
                .search_names
                .extend(self.inner.workflows.named_by(text));
        }
        for (key, name) in [(&filter.before, "before"), (&filter.after, "after")] {
            if let Some(id) = key {
                let id = JobId::parse(id).map_err(|_| {
                    AppError::bad_request(format!("`{name}` must be the id of one of your jobs"))
                })?;
                self.job(caller, &id).await.map_err(|_| {
                    AppError::bad_request(format!("`{name}` must be the id of one of your jobs"))
                })?;
            }
        }
        let size = filter.limit;
        // One more than the page: whether there is a page beyond it.
        filter.limit = size + 1;
        let mut jobs = self
            .inner
            .store
            .list_jobs(caller.sees(), &filter)
            .await
            .map_err(read_failed)?;
        let more = jobs.len() > size as usize;
        let newer = filter.before.is_none() && filter.after.is_some();
        if more {
            if newer {
                jobs.remove(0);
            } else {
                jobs.truncate(size as usize);
            }
        }
        let (has_older, has_newer) = if newer {
            (true, more)
        } else {
            (more, filter.before.is_some())
        };
        let next = has_older
            .then(|| jobs.last().map(|j| j.id.to_string()))
            .flatten();
        let prev = has_newer
            .then(|| jobs.first().map(|j| j.id.to_string()))
            .flatten();
        Ok(JobPage { jobs, next, prev })
    }

    /// The caller's job counts per status (of one kind, or of all).
    pub async fn status_counts(
        &self,
        caller: &Caller,
        kind: Option<&str>,
    ) -> Result<Vec<StatusCount>, AppError> {
        self.inner
            .store
            .status_counts(caller.sees(), kind)
            .await
            .map_err(read_failed)
    }

    /// The caller's jobs that failed since `since`, by kind and error code, newest first.
    pub async fn failure_groups(
        &self,
        caller: &Caller,
        since: i64,
        limit: u32,
    ) -> Result<Vec<FailureGroup>, AppError> {
        self.inner
            .store
            .failure_groups(caller.sees(), since, limit)
            .await
            .map_err(read_failed)
    }

    /// The caller's jobs finished per minute over the hour before `now`.
    pub async fn last_hour(&self, caller: &Caller, now: i64) -> Result<Vec<MinuteStats>, AppError> {
        let until = now - now.rem_euclid(60_000) + 60_000;
        self.inner
            .store
            .finished_per_minute(caller.sees(), until - 3_600_000, until)
            .await
            .map_err(read_failed)
    }

    /// Everything the job page shows about one of the caller's jobs, with its last `log_lines`
    /// (of those that pass `log_filter`).
    pub async fn job_detail(
        &self,
        caller: &Caller,
        id: &JobId,
        log_lines: u32,
        log_filter: &LogFilter,
    ) -> Result<JobDetail, AppError> {
        let job = self.job(caller, id).await?;
        let store = &self.inner.store;
        let changes = store.status_changes(id).await.map_err(read_failed)?;
        let (mut log, log_total) = log_tail(store, id, log_lines, LOG_READ_BYTES)
            .await
            .map_err(read_failed)?;
        let mut log_matches = None;
        if !log_filter.is_empty() {
            let (found, n) = store
                .log_search(id, log_filter, log_lines)
                .await
                .map_err(read_failed)?;
            (log, log_matches) = (found, Some(n));
        }
        Ok(JobDetail {
            timeline: timeline(&job, changes),
            job,
            log,
            log_total,
            log_filter: log_filter.clone(),
            log_matches,
        })
    }

    /// Log lines of one of the caller's jobs with `seq > after`: `limit` at most, and about
    /// [`LOG_READ_BYTES`] at most (no more than one line past it); the next page starts after
    /// the last line, and an empty page is the end.
    pub async fn job_log(
        &self,
        caller: &Caller,
        id: &JobId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<LogLine>, AppError> {
        let job = self.job(caller, id).await?;
        log_after(&self.inner.store, &job.id, after, limit, LOG_READ_BYTES)
            .await
            .map_err(read_failed)
    }

    /// The jobs a stream's snapshot shows: the caller's unfinished ones and the latest `recent`.
    pub async fn snapshot_jobs(&self, caller: &Caller, recent: u32) -> Result<Vec<Job>, AppError> {
        self.inner
            .store
            .snapshot_jobs(caller.sees(), recent)
            .await
            .map_err(read_failed)
    }

    /// Stored events after `after` that the caller may see, oldest first: of one job (which
    /// the caller may see), or of all the caller's jobs.
    ///
    /// Only events up to the head are read: an event the store has committed but the writer
    /// has not yet published comes on the bus instead, so that no client ever holds an id
    /// newer than what the next stream it opens takes as the head.
    pub async fn events_after(
        &self,
        caller: &Caller,
        job_id: Option<&JobId>,
        after: i64,
        limit: u32,
    ) -> Result<Replay, AppError> {
        let store = &self.inner.store;
        let until = self.head();
        let events = match job_id {
            Some(id) => {
                store
                    .job_events_after(&self.job(caller, id).await?.id, after, until, limit)
                    .await
            }
            None => {
                store
                    .owner_events_after(caller.sees(), after, until, limit)
                    .await
            }
        }
        .map_err(read_failed)?;
        // Checked after reading: the store moves the floor in the transaction that deletes, so
        // a read that missed deleted events sees the floor above its cursor here.
        if job_id.is_none() && after < self.refresh_pruned_through().await.map_err(read_failed)? {
            return Ok(Replay::Pruned);
        }
        Ok(Replay::Events(events))
    }
}

/// What a replay read.
#[derive(Debug)]
pub enum Replay {
    /// The stored events after the cursor, oldest first (none: caught up).
    Events(Vec<StoredEvent>),
    /// Events after the cursor are no longer kept: the client must start again from a snapshot.
    Pruned,
}

/// Turns a history view's parameters into a filter, or says which one is wrong.
pub fn job_filter(q: &HistoryQuery) -> Result<JobFilter, AppError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(AppError::bad_request("limit must be from 1 to 500"));
    }
    let mut statuses = Vec::new();
    for name in q
        .status
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let status = JobStatus::parse(name).ok_or_else(|| {
            let known: Vec<&str> = JobStatus::ALL.iter().map(|s| s.as_str()).collect();
            AppError::bad_request(format!(
                "unknown status {name:?}; use one of {}",
                known.join(", ")
            ))
        })?;
        statuses.push(status);
    }
    let search =
        q.q.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
    if search
        .as_ref()
        .is_some_and(|s| s.chars().count() > model::history::MAX_SEARCH)
    {
        return Err(AppError::bad_request(format!(
            "q must be at most {} characters",
            model::history::MAX_SEARCH
        )));
    }
    let key = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let schedule = key(&q.schedule)
        .map(|s| ScheduleId::parse(&s))
        .transpose()
        .map_err(|_| AppError::bad_request("schedule must be a schedule's id"))?;
    let steps = match key(&q.parent) {
        None => crate::store::Steps::None,
        Some(run) => crate::store::Steps::Of(
            JobId::parse(&run).map_err(|_| AppError::bad_request("parent must be a job's id"))?,
        ),
    };
    let error_code = key(&q.error);
    if error_code
        .as_ref()
        .is_some_and(|c| c.chars().count() > model::history::MAX_ERROR_CODE)
    {
        return Err(AppError::bad_request(format!(
            "error must be an error code, {} characters at most",
            model::history::MAX_ERROR_CODE
        )));
    }
    Ok(JobFilter {
        statuses,
        kind: key(&q.kind),
        schedule,
        steps,
        search,
        error_code,
        before: key(&q.before),
        after: key(&q.after),
        limit,
        ..JobFilter::default()
    })
}

/// A job's states in order with their times: from its events where they are kept, else from
/// its own created, started and finished times.
pub fn timeline(job: &Job, changes: Vec<StatusChange>) -> Vec<StatusChange> {
    if changes
        .first()
        .is_some_and(|c| c.status == JobStatus::Queued)
    {
        return changes;
    }
    let mut t = vec![StatusChange {
        status: JobStatus::Queued,
        at: job.created_at,
    }];
    if let Some(at) = job.started_at {
        t.push(StatusChange {
            status: JobStatus::Running,
            at,
        });
    }
    // Whatever is still stored is newer than the times above.
    let from = t.last().map_or(i64::MIN, |c| c.at);
    t.extend(
        changes
            .into_iter()
            .filter(|c| c.at >= from && c.status != JobStatus::Running),
    );
    if let (Some(at), true) = (job.finished_at, job.status.is_terminal()) {
        if t.last().is_none_or(|c| c.status != job.status) {
            t.push(StatusChange {
                status: job.status,
                at,
            });
        }
    }
    t
}
