//! The history's query, built at run time (the filters vary) once for every backend: each
//! brings only how its SQL matches text without regard to case.

use crate::{stored_id, JobFilter, JobRow, Search, StoreResult, JOB_COLUMNS};
use model::Job;
use sqlx::{Database, Encode, QueryBuilder, Type};

/// A page of the history: `owner`'s jobs (`None`: everyone's) that pass `filter`, newest first,
/// as the query to run and what to do with its rows ([`HistoryQuery::jobs`]).
pub struct HistoryQuery<'a, DB: Database> {
    pub query: QueryBuilder<'a, DB>,
    /// Read oldest first (a page after a key): the rows are turned around.
    newer: bool,
}

impl<'a, DB: Database> HistoryQuery<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    /// `like` is the backend's operator that matches a `LIKE` pattern without regard to case
    /// (`LIKE` in SQLite, `ILIKE` in PostgreSQL).
    ///
    /// With an owner and several statuses, each status's newest jobs are read from its own
    /// range of the `(owner, status, seq)` index and the page is the newest of those: one
    /// `status IN (…)` is read along `(owner, seq)` until the page is full, which walks every
    /// job of the owner when the statuses are rare (the running ones of a long history: 1.4 s
    /// at 1,000,000 jobs on SQLite, against milliseconds).
    pub fn new(owner: Option<&str>, filter: &JobFilter, like: &str) -> Self {
        let newer = filter.before.is_none() && filter.after.is_some();
        let order = match newer {
            true => " ORDER BY seq ASC LIMIT ",
            false => " ORDER BY seq DESC LIMIT ",
        };
        let limit = i64::from(filter.limit);
        let mut q = QueryBuilder::new(format!("SELECT {JOB_COLUMNS} FROM jobs WHERE "));
        match (filter.statuses.as_slice(), owner) {
            ([status], _) => conditions(&mut q, owner, filter, like, Some(status.as_str()), newer),
            // Everyone's jobs have no index by status and time: one pass, as read.
            ([], _) | (_, None) => {
                conditions(&mut q, owner, filter, like, None, newer);
                if !filter.statuses.is_empty() {
                    q.push(" AND status IN (");
                    let mut list = q.separated(", ");
                    for status in &filter.statuses {
                        list.push_bind(status.as_str().to_string());
                    }
                    q.push(")");
                }
            }
            (statuses, Some(_)) => {
                q.push("seq IN (");
                for (i, status) in statuses.iter().enumerate() {
                    if i > 0 {
                        q.push(" UNION ALL ");
                    }
                    q.push("SELECT seq FROM (SELECT seq FROM jobs WHERE ");
                    conditions(&mut q, owner, filter, like, Some(status.as_str()), newer);
                    q.push(order).push_bind(limit).push(format!(") AS s{i}"));
                }
                q.push(")");
            }
        }
        q.push(order).push_bind(limit);
        HistoryQuery { query: q, newer }
    }

    /// The page's jobs, newest first, from the query's rows.
    pub fn jobs(&self, rows: Vec<JobRow>) -> StoreResult<Vec<Job>> {
        let mut jobs = rows
            .into_iter()
            .map(Job::try_from)
            .collect::<StoreResult<Vec<Job>>>()?;
        if self.newer {
            jobs.reverse();
        }
        Ok(jobs)
    }
}

/// The conditions of a history page: `owner`'s jobs (`None`: everyone's) of `status`, if one,
/// that pass the rest of `filter`, past its key.
fn conditions<'a, DB: Database>(
    q: &mut QueryBuilder<'a, DB>,
    owner: Option<&str>,
    filter: &JobFilter,
    like: &str,
    status: Option<&str>,
    newer: bool,
) where
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    match owner {
        Some(owner) => q.push("owner = ").push_bind(owner.to_string()),
        None => q.push("TRUE"),
    };
    if let Some(status) = status {
        q.push(" AND status = ").push_bind(status.to_string());
    }
    if let Some(kind) = &filter.kind {
        q.push(" AND kind = ").push_bind(kind.clone());
    }
    if let Some(schedule) = &filter.schedule {
        q.push(" AND schedule_id = ")
            .push_bind(schedule.as_str().to_string());
    }
    let search = filter.search.as_deref().map(Search::parse);
    match &filter.steps {
        crate::Steps::All => {}
        // A search for a job's id finds it wherever it is, a run's step too.
        crate::Steps::None if matches!(search, Some(Search::IdPrefix { .. })) => {}
        crate::Steps::None => {
            q.push(" AND parent_id IS NULL");
        }
        crate::Steps::Of(run) => {
            q.push(" AND parent_id = ")
                .push_bind(run.as_str().to_string());
        }
    }
    if let Some(code) = &filter.error_code {
        q.push(" AND error_code = ").push_bind(code.clone());
    }
    match search {
        // A job id or the start of one: a range on the unique index of ids.
        Some(Search::IdPrefix { low, high }) => {
            q.push(" AND id >= ")
                .push_bind(low)
                .push(" AND id < ")
                .push_bind(high);
        }
        Some(Search::Text(pattern)) => {
            q.push(format!(" AND (message {like} "))
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\'");
            q.push(format!(" OR error_message {like} "))
                .push_bind(pattern)
                .push(" ESCAPE '\\')");
        }
        None => {}
    }
    if let Some(from) = filter.created_from {
        q.push(" AND created_at >= ").push_bind(from);
    }
    if let Some(to) = filter.created_to {
        q.push(" AND created_at < ").push_bind(to);
    }
    if let Some(key) = filter.before.as_ref().or(filter.after.as_ref()) {
        q.push(if newer { " AND seq > " } else { " AND seq < " });
        q.push("(SELECT seq FROM jobs WHERE id = ")
            .push_bind(key.clone());
        if let Some(owner) = owner {
            q.push(" AND owner = ").push_bind(owner.to_string());
        }
        q.push(")");
    }
}

/// The owner's (`None`: everyone's) jobs that failed since a time, by kind and error code, the
/// newest failure of each group beside its count: one query, written once for both databases.
pub struct FailureGroupsQuery<'a, DB: Database> {
    pub query: QueryBuilder<'a, DB>,
}

/// A row of [`FailureGroupsQuery`].
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FailureGroupRow {
    pub kind: String,
    pub error_code: Option<String>,
    pub n: i64,
    pub last_at: i64,
    pub id: String,
    pub error_message: Option<String>,
}

impl<'a, DB: Database> FailureGroupsQuery<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    pub fn new(owner: Option<&str>, since: i64, limit: u32) -> Self {
        let mut q = QueryBuilder::new(
            "SELECT kind, error_code, n, last_at, id, error_message FROM (\
             SELECT kind, error_code, id, error_message, finished_at AS last_at, seq, \
             COUNT(*) OVER (PARTITION BY kind, error_code) AS n, \
             ROW_NUMBER() OVER (PARTITION BY kind, error_code ORDER BY finished_at DESC, seq DESC) AS r \
             FROM jobs WHERE status = 'failed' AND finished_at >= ",
        );
        q.push_bind(since);
        if let Some(owner) = owner {
            q.push(" AND owner = ").push_bind(owner.to_string());
        }
        // Failures of one millisecond: the later job's first.
        q.push(") groups WHERE r = 1 ORDER BY last_at DESC, seq DESC LIMIT ");
        q.push_bind(i64::from(limit));
        FailureGroupsQuery { query: q }
    }
}

/// The groups of failed jobs, from the rows of a [`FailureGroupsQuery`].
pub fn failure_groups(rows: Vec<FailureGroupRow>) -> StoreResult<Vec<model::FailureGroup>> {
    rows.into_iter()
        .map(|r| {
            Ok(model::FailureGroup {
                kind: r.kind,
                error_code: r.error_code,
                count: r.n.max(0) as u64,
                last_at: r.last_at,
                last_job: stored_id(r.id)?,
                last_message: r.error_message,
            })
        })
        .collect()
}
