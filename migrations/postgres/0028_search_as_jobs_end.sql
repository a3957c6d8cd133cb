-- The search index holds the jobs that ended; the unfinished ones, few (the queue's shares bound
-- them), are read where they are. A job is written to the index once, as it ends, rather than
-- also as it is stored: the job path writes half as much to it.
DROP TRIGGER job_search_insert ON jobs;
DROP TRIGGER job_search_update ON jobs;

-- The unfinished jobs the index has from their start.
DELETE FROM job_search WHERE job IN
    (SELECT seq FROM jobs WHERE status IN ('queued', 'running', 'cancelling'));

-- A job that ends, or an ended job that changes (another end, its parameters or its error
-- written again): its text, written or written again.
CREATE TRIGGER job_search_ended AFTER UPDATE OF status, params, step, error_code, error_message
    ON jobs FOR EACH ROW
    WHEN (NEW.status IN ('succeeded', 'failed', 'cancelled', 'interrupted')
        AND (OLD.status IS DISTINCT FROM NEW.status
            OR OLD.params IS DISTINCT FROM NEW.params OR OLD.step IS DISTINCT FROM NEW.step
            OR OLD.error_code IS DISTINCT FROM NEW.error_code
            OR OLD.error_message IS DISTINCT FROM NEW.error_message))
    EXECUTE FUNCTION job_search_follow();

-- An ended job queued again (an interrupted one that resumes): unfinished, it leaves the index.
CREATE FUNCTION job_search_leave() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM job_search WHERE job = OLD.seq;
    RETURN NULL;
END
$$;

CREATE TRIGGER job_search_resumed AFTER UPDATE OF status ON jobs
    FOR EACH ROW
    WHEN (OLD.status IN ('succeeded', 'failed', 'cancelled', 'interrupted')
        AND NEW.status IN ('queued', 'running', 'cancelling'))
    EXECUTE FUNCTION job_search_leave();
