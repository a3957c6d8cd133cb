//! The search index's queue. A job that ends is queued (`job_search_pending`, by the
//! migrations' triggers, in the transaction that ends it) and the writer writes the queue into
//! the index many jobs at a time ([`Indexer`]): an index written one or two jobs a transaction
//! (SQLite's FTS5 writes a segment for each, and merges them as they pile up) cost the job path
//! half its pace. Until then a search reads a queued job where it is, as it reads an unfinished
//! one (the history's query).

use crate::sql::Dialect;
use std::time::{Duration, Instant};

/// How often a writer that writes jobs writes the queue into the index: what a search reads
/// outside the index is the jobs that ended in about this long.
pub const INDEX_EVERY: Duration = Duration::from_millis(500);

/// The text the index holds of a job `j`, in the order of the history's searched columns.
macro_rules! doc {
    () => {
        "j.id || ' ' || j.kind || ' ' || COALESCE(j.step, '') || ' ' || j.params || ' ' || \
         COALESCE(j.error_code, '') || ' ' || COALESCE(j.error_message, '') || ' ' || j.message"
    };
}

/// The statements that write the queue into the index and empty it, to run in order in one
/// transaction.
#[derive(Debug, Clone, Copy)]
pub struct IndexQueued {
    pub statements: &'static [&'static str],
    /// The statement whose rows are the jobs written.
    pub counted: usize,
}

/// [`IndexQueued`] for the dialect.
pub fn index_queued(dialect: Dialect) -> IndexQueued {
    let (statements, counted): (&'static [&'static str], usize) = match dialect {
        // FTS5 has no upsert: a job whose older text the index has (`stale`) loses it first.
        Dialect::Sqlite => (
            &[
                "DELETE FROM job_search WHERE rowid IN \
             (SELECT seq FROM job_search_pending WHERE stale = 1)",
                concat!(
                    "INSERT INTO job_search (rowid, doc) SELECT j.seq, ",
                    doc!(),
                    " FROM job_search_pending p JOIN jobs j ON j.seq = p.seq \
                 WHERE j.status IN ('succeeded', 'failed', 'cancelled', 'interrupted')"
                ),
                "DELETE FROM job_search_pending",
            ],
            1,
        ),
        // Several processes may write the queue at once: each takes the rows it deletes.
        Dialect::Postgres => (
            &[concat!(
                "WITH p AS (DELETE FROM job_search_pending RETURNING seq) \
             INSERT INTO job_search (job, doc) SELECT j.seq, ",
                doc!(),
                " FROM p JOIN jobs j ON j.seq = p.seq \
             WHERE j.status IN ('succeeded', 'failed', 'cancelled', 'interrupted') \
             ON CONFLICT (job) DO UPDATE SET doc = EXCLUDED.doc"
            )],
            0,
        ),
    };
    IndexQueued {
        statements,
        counted,
    }
}

/// When a writer writes the queue into the index: after a batch, once [`INDEX_EVERY`] has
/// passed since it last did.
#[derive(Debug)]
pub struct Indexer {
    last: Instant,
}

impl Default for Indexer {
    fn default() -> Self {
        Indexer {
            last: Instant::now(),
        }
    }
}

impl Indexer {
    /// Whether the queue is due at `now`; if so, it counts as written from `now`.
    pub fn due(&mut self, now: Instant) -> bool {
        if now.duration_since(self.last) < INDEX_EVERY {
            return false;
        }
        self.last = now;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_is_due_once_per_interval_after_a_batch() {
        let start = Instant::now();
        let mut indexer = Indexer { last: start };
        assert!(!indexer.due(start + INDEX_EVERY / 2));
        assert!(indexer.due(start + INDEX_EVERY));
        assert!(!indexer.due(start + INDEX_EVERY + INDEX_EVERY / 2));
        assert!(indexer.due(start + 3 * INDEX_EVERY));
    }

    #[test]
    fn both_databases_index_the_same_text_of_an_ended_job() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let queued = index_queued(dialect);
            let counted = queued.statements[queued.counted];
            assert!(counted.contains(doc!()), "{dialect:?}");
            let statements = queued.statements.join(";");
            assert!(statements.contains("'interrupted'"), "{dialect:?}");
        }
    }
}
