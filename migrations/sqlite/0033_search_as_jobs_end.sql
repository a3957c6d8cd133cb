-- The search index holds the jobs that ended; the unfinished ones, few (the queue's shares bound
-- them), are read where they are, through the `jobs_active` index. A job is written to the index
-- once, as it ends, rather than also as it is stored: the job path writes half as much to it.
DROP TRIGGER job_search_insert;
DROP TRIGGER job_search_update;

-- The unfinished jobs the index has from their start.
DELETE FROM job_search WHERE rowid IN
    (SELECT seq FROM jobs WHERE status IN ('queued', 'running', 'cancelling'));

-- A job that ends.
CREATE TRIGGER job_search_ended AFTER UPDATE OF status ON jobs
WHEN OLD.status IN ('queued', 'running', 'cancelling')
    AND NEW.status IN ('succeeded', 'failed', 'cancelled', 'interrupted')
BEGIN
    INSERT INTO job_search (rowid, doc) VALUES (NEW.seq,
        NEW.id || ' ' || NEW.kind || ' ' || COALESCE(NEW.step, '') || ' ' || NEW.params || ' ' ||
        COALESCE(NEW.error_code, '') || ' ' || COALESCE(NEW.error_message, '') || ' ' ||
        NEW.message);
END;

-- An ended job that changes (another end, its parameters or its error written again).
CREATE TRIGGER job_search_changed AFTER UPDATE OF status, params, step, error_code, error_message
ON jobs
WHEN OLD.status IN ('succeeded', 'failed', 'cancelled', 'interrupted')
    AND NEW.status IN ('succeeded', 'failed', 'cancelled', 'interrupted')
    AND (OLD.status IS NOT NEW.status OR OLD.params IS NOT NEW.params OR OLD.step IS NOT NEW.step
        OR OLD.error_code IS NOT NEW.error_code OR OLD.error_message IS NOT NEW.error_message)
BEGIN
    DELETE FROM job_search WHERE rowid = OLD.seq;
    INSERT INTO job_search (rowid, doc) VALUES (NEW.seq,
        NEW.id || ' ' || NEW.kind || ' ' || COALESCE(NEW.step, '') || ' ' || NEW.params || ' ' ||
        COALESCE(NEW.error_code, '') || ' ' || COALESCE(NEW.error_message, '') || ' ' ||
        NEW.message);
END;

-- An ended job queued again (an interrupted one that resumes): unfinished, it leaves the index.
CREATE TRIGGER job_search_resumed AFTER UPDATE OF status ON jobs
WHEN OLD.status IN ('succeeded', 'failed', 'cancelled', 'interrupted')
    AND NEW.status IN ('queued', 'running', 'cancelling')
BEGIN
    DELETE FROM job_search WHERE rowid = OLD.seq;
END;
