-- A job that ends is written to the search index by the writer, many at a time, rather than by
-- a trigger in the transaction that ends it: FTS5 writes a segment of its index for every
-- transaction that changes it and merges those segments as they pile up, which, one or two jobs
-- a transaction, cost the job path half its pace. The trigger only queues the job here; the
-- writer indexes what is queued at most every half second (`store_core::search`), and a
-- search reads the queued jobs where they are, as it reads the unfinished ones.
CREATE TABLE job_search_pending (
    -- The job's `seq`.
    seq     INTEGER PRIMARY KEY,
    -- 1: the index has an older text of the job, to delete before its new one is written.
    stale   INTEGER NOT NULL
);

DROP TRIGGER job_search_ended;
DROP TRIGGER job_search_changed;
DROP TRIGGER job_search_resumed;

-- A job that ends.
CREATE TRIGGER job_search_ended AFTER UPDATE OF status ON jobs
WHEN OLD.status IN ('queued', 'running', 'cancelling')
    AND NEW.status IN ('succeeded', 'failed', 'cancelled', 'interrupted')
BEGIN
    INSERT OR IGNORE INTO job_search_pending (seq, stale) VALUES (NEW.seq, 0);
END;

-- An ended job that changes (another end, its parameters or its error written again): its text
-- is written again (if it is still queued, not yet written, it stays so).
CREATE TRIGGER job_search_changed AFTER UPDATE OF status, params, step, error_code, error_message
ON jobs
WHEN OLD.status IN ('succeeded', 'failed', 'cancelled', 'interrupted')
    AND NEW.status IN ('succeeded', 'failed', 'cancelled', 'interrupted')
    AND (OLD.status IS NOT NEW.status OR OLD.params IS NOT NEW.params OR OLD.step IS NOT NEW.step
        OR OLD.error_code IS NOT NEW.error_code OR OLD.error_message IS NOT NEW.error_message)
BEGIN
    INSERT OR IGNORE INTO job_search_pending (seq, stale) VALUES (NEW.seq, 1);
END;

-- An ended job queued again (an interrupted one that resumes): unfinished, it leaves the index.
CREATE TRIGGER job_search_resumed AFTER UPDATE OF status ON jobs
WHEN OLD.status IN ('succeeded', 'failed', 'cancelled', 'interrupted')
    AND NEW.status IN ('queued', 'running', 'cancelling')
BEGIN
    DELETE FROM job_search_pending WHERE seq = OLD.seq;
    DELETE FROM job_search WHERE rowid = OLD.seq;
END;

-- A job deleted (the history's retention) leaves the queue as it leaves the index.
CREATE TRIGGER job_search_pending_delete AFTER DELETE ON jobs BEGIN
    DELETE FROM job_search_pending WHERE seq = OLD.seq;
END;
