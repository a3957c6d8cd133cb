//! The history's query, built at run time (the filters vary) once for every backend: each
//! brings only how its SQL matches text without regard to case.

use crate::sql::Dialect;
use crate::{like_pattern, stored_id, JobFilter, JobRow, Search, StoreResult, JOB_COLUMNS};
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
    /// `dialect` says how the backend matches text: a search of three characters or more is
    /// found through its search index (SQLite's FTS5 with trigrams, PostgreSQL's `pg_trgm`),
    /// a shorter one by reading each row's searched columns.
    ///
    /// With an owner and several statuses, each status's newest jobs are read from its own
    /// range of the `(owner, status, seq)` index and the page is the newest of those: one
    /// `status IN (…)` is read along `(owner, seq)` until the page is full, which walks every
    /// job of the owner when the statuses are rare (the running ones of a long history: 1.4 s
    /// at 1,000,000 jobs on SQLite, against milliseconds).
    pub fn new(owner: Option<&str>, filter: &JobFilter, dialect: Dialect) -> Self {
        let newer = filter.before.is_none() && filter.after.is_some();
        let order = match newer {
            true => " ORDER BY seq ASC LIMIT ",
            false => " ORDER BY seq DESC LIMIT ",
        };
        let limit = i64::from(filter.limit);
        let search = filter.search.as_deref().map(Search::parse);
        let text = match &search {
            Some(Search::Text(text)) => Some(Text::of(text, &filter.search_names)),
            _ => None,
        };
        let mut q = QueryBuilder::new(format!("SELECT {JOB_COLUMNS} FROM jobs WHERE "));
        let part = Part {
            owner,
            filter,
            dialect,
            search: search.as_ref(),
            newer,
        };
        match (filter.statuses.as_slice(), owner, &text) {
            // Text of three characters or more: the newest ended jobs the index finds, beside
            // those it does not have that have it, unfinished or just ended (see `live`).
            (_, _, Some(Text::Indexed { .. })) => {
                let text = text.as_ref().expect("matched");
                q.push("seq IN (SELECT seq FROM (");
                indexed(&mut q, &part, text, order, limit);
                q.push(") found UNION ALL SELECT seq FROM (");
                live(&mut q, &part, text, order, limit, Unindexed::Unfinished);
                q.push(") live UNION ALL SELECT seq FROM (");
                live(&mut q, &part, text, order, limit, Unindexed::Queued);
                q.push(") queued)");
            }
            ([status], _, _) => part.conditions(&mut q, Some(status.as_str()), text.as_ref()),
            // Everyone's jobs have no index by status and time: one pass, as read.
            ([], _, _) | (_, None, _) => {
                part.conditions(&mut q, None, text.as_ref());
                part.statuses(&mut q);
            }
            (statuses, Some(_), _) => {
                q.push("seq IN (");
                for (i, status) in statuses.iter().enumerate() {
                    if i > 0 {
                        q.push(" UNION ALL ");
                    }
                    q.push("SELECT seq FROM (SELECT seq FROM jobs WHERE ");
                    part.conditions(&mut q, Some(status.as_str()), text.as_ref());
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

/// What a text search matches, as a query needs it.
enum Text {
    /// Three characters or more: the ended jobs found through the search index (`job_search`,
    /// written by the writer soon after a job ends: [`crate::search`]), as the index's query for
    /// the dialect, and a `LIKE` pattern for the jobs it does not have, read where they are.
    Indexed {
        phrases: String,
        pattern: String,
        kinds: Vec<String>,
    },
    /// One or two characters, shorter than the index's trigrams: every column read.
    Scanned { pattern: String, kinds: Vec<String> },
}

impl Text {
    /// The fewest characters the search index finds (its tokens are trigrams).
    const INDEXED_CHARS: usize = 3;

    fn of(text: &str, kinds: &[String]) -> Text {
        let pattern = like_pattern(text);
        let kinds = kinds.to_vec();
        if text.chars().count() < Text::INDEXED_CHARS {
            return Text::Scanned { pattern, kinds };
        }
        // An FTS5 query: the text as one phrase (a double quote in it doubled), or any kind
        // whose name or title has it.
        let phrase = |t: &str| format!("\"{}\"", t.replace('"', "\"\""));
        let mut phrases = phrase(text);
        for kind in &kinds {
            phrases.push_str(" OR ");
            phrases.push_str(&phrase(kind));
        }
        Text::Indexed {
            phrases,
            pattern,
            kinds,
        }
    }
}

/// What every part of a history query shares.
struct Part<'f> {
    owner: Option<&'f str>,
    filter: &'f JobFilter,
    dialect: Dialect,
    search: Option<&'f Search>,
    newer: bool,
}

/// The newest jobs (the oldest after a key) the search index finds that pass the rest of the
/// filter, up to the page: read along the index in the jobs' order, so that a word most jobs
/// have ends at the page and a rare one at its few.
fn indexed<'a, DB: Database>(
    q: &mut QueryBuilder<'a, DB>,
    part: &Part<'_>,
    text: &Text,
    order: &str,
    limit: i64,
) where
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let Text::Indexed {
        phrases,
        pattern,
        kinds,
    } = text
    else {
        return;
    };
    match part.dialect {
        Dialect::Sqlite => {
            q.push(
                "SELECT jobs.seq FROM (SELECT rowid AS job FROM job_search WHERE job_search MATCH ",
            )
            .push_bind(phrases.clone())
            .push(") f JOIN jobs ON jobs.seq = f.job WHERE ");
        }
        Dialect::Postgres => {
            q.push("SELECT jobs.seq FROM job_search f JOIN jobs ON jobs.seq = f.job WHERE (f.doc ILIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\'");
            for kind in kinds {
                q.push(" OR f.doc ILIKE ")
                    .push_bind(like_pattern(kind))
                    .push(" ESCAPE '\\'");
            }
            q.push(") AND ");
        }
    }
    part.conditions(q, None, None);
    part.statuses(q);
    // SQLite reads the index in the order of its row ids, the jobs' `seq`: said so, the page
    // ends with its last row found, not after sorting every match.
    let key = match part.dialect {
        Dialect::Sqlite => "f.job",
        Dialect::Postgres => "jobs.seq",
    };
    q.push(order.replace("seq", key)).push_bind(limit);
}

/// The jobs the search index does not have, read where they are.
#[derive(Clone, Copy)]
enum Unindexed {
    /// The unfinished ones (the index has the jobs that ended): few, each read whole (its live
    /// message too), through the `jobs_active` partial index.
    Unfinished,
    /// The ended ones queued for the index ([`crate::search`]): those that ended in the last
    /// moment.
    Queued,
}

/// The jobs of `which` that have the text.
fn live<'a, DB: Database>(
    q: &mut QueryBuilder<'a, DB>,
    part: &Part<'_>,
    text: &Text,
    order: &str,
    limit: i64,
    which: Unindexed,
) where
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let Text::Indexed { pattern, kinds, .. } = text else {
        return;
    };
    // SQLite's planner, without statistics, would rather walk the owner's every job: the index
    // to read is said (a `CROSS JOIN` is read left first).
    let order = match (which, part.dialect) {
        (Unindexed::Unfinished, Dialect::Sqlite) => {
            q.push("SELECT seq FROM jobs INDEXED BY jobs_active WHERE ");
            order.to_string()
        }
        (Unindexed::Unfinished, Dialect::Postgres) => {
            q.push("SELECT seq FROM jobs WHERE ");
            order.to_string()
        }
        (Unindexed::Queued, _) => {
            q.push("SELECT p.seq FROM job_search_pending p CROSS JOIN jobs WHERE jobs.seq = p.seq AND ");
            order.replace("seq", "p.seq")
        }
    };
    if let Unindexed::Unfinished = which {
        q.push("status IN ('queued', 'running', 'cancelling') AND ");
    }
    part.scan(q, pattern, kinds);
    q.push(" AND ");
    part.conditions(q, None, None);
    part.statuses(q);
    q.push(order).push_bind(limit);
}

impl Part<'_> {
    /// `(…)`: the rows whose searched columns have `pattern`, or that are of one of `kinds`
    /// (or name one in their parameters, as a workflow's run does), read in every row.
    fn scan<'a, DB: Database>(&self, q: &mut QueryBuilder<'a, DB>, pattern: &str, kinds: &[String])
    where
        String: Encode<'a, DB> + Type<DB>,
    {
        let like = self.dialect.like();
        q.push("(");
        for (i, column) in SEARCHED.iter().enumerate() {
            if i > 0 {
                q.push(" OR ");
            }
            q.push(format!("{column} {like} "))
                .push_bind(pattern.to_string())
                .push(" ESCAPE '\\'");
        }
        for name in kinds {
            q.push(" OR kind = ")
                .push_bind(name.clone())
                .push(format!(" OR params {like} "))
                .push_bind(like_pattern(name))
                .push(" ESCAPE '\\'");
        }
        q.push(")");
    }

    /// ` AND status IN (…)` for a filter of statuses, nothing without one.
    fn statuses<'a, DB: Database>(&self, q: &mut QueryBuilder<'a, DB>)
    where
        String: Encode<'a, DB> + Type<DB>,
    {
        if self.filter.statuses.is_empty() {
            return;
        }
        q.push(" AND status IN (");
        let mut list = q.separated(", ");
        for status in &self.filter.statuses {
            list.push_bind(status.as_str().to_string());
        }
        q.push(")");
    }

    /// The conditions of a history page: the owner's jobs (`None`: everyone's) of `status`, if
    /// one, that pass the rest of the filter, past its key; `text`, a search of one or two
    /// characters, read in every searched column (a longer one is the index's: `indexed`).
    fn conditions<'a, DB: Database>(
        &self,
        q: &mut QueryBuilder<'a, DB>,
        status: Option<&str>,
        text: Option<&Text>,
    ) where
        String: Encode<'a, DB> + Type<DB>,
        i64: Encode<'a, DB> + Type<DB>,
    {
        let (owner, filter) = (self.owner, self.filter);
        match owner {
            Some(owner) => q.push("jobs.owner = ").push_bind(owner.to_string()),
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
        match &filter.steps {
            crate::Steps::All => {}
            // A search for a job's id finds it wherever it is, a run's step too.
            crate::Steps::None if matches!(self.search, Some(Search::IdPrefix { .. })) => {}
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
        if let Some(Search::IdPrefix { low, high }) = self.search {
            // A job id or the start of one: a range on the unique index of ids.
            q.push(" AND jobs.id >= ")
                .push_bind(low.clone())
                .push(" AND jobs.id < ")
                .push_bind(high.clone());
        }
        if let Some(Text::Scanned { pattern, kinds }) = text {
            q.push(" AND ");
            self.scan(q, pattern, kinds);
        }
        if let Some(from) = filter.created_from {
            q.push(" AND created_at >= ").push_bind(from);
        }
        if let Some(to) = filter.created_to {
            q.push(" AND created_at < ").push_bind(to);
        }
        if let Some(key) = filter.before.as_ref().or(filter.after.as_ref()) {
            q.push(if self.newer {
                " AND jobs.seq > "
            } else {
                " AND jobs.seq < "
            });
            q.push("(SELECT k.seq FROM jobs k WHERE k.id = ")
                .push_bind(key.clone());
            if let Some(owner) = owner {
                q.push(" AND k.owner = ").push_bind(owner.to_string());
            }
            q.push(")");
        }
    }
}

/// The columns a search reads, in the order of the search index's text (the migrations'
/// `job_search`): what a short search, which the index cannot find, reads in every row.
const SEARCHED: [&str; 7] = [
    "jobs.id",
    "kind",
    "COALESCE(step, '')",
    "params",
    "COALESCE(error_code, '')",
    "COALESCE(error_message, '')",
    "message",
];

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
    pub error_said: Option<String>,
}

impl<'a, DB: Database> FailureGroupsQuery<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    pub fn new(owner: Option<&str>, since: i64, limit: u32) -> Self {
        let mut q = QueryBuilder::new(
            "SELECT kind, error_code, n, last_at, id, error_message, error_said FROM (\
             SELECT kind, error_code, id, error_message, error_said, finished_at AS last_at, seq, \
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
                last_said: r.error_said.and_then(|s| serde_json::from_str(&s).ok()),
            })
        })
        .collect()
}
