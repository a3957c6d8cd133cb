-- A job that ends is written to the search index by the writer, many at a time, rather than by
-- a trigger in the transaction that ends it: the trigger only queues the job here; a writer
-- indexes what is queued at most every half second (`store_core::search`), and a search reads
-- the queued jobs where they are, as it reads the unfinished ones.
CREATE TABLE job_search_pending (
    -- The job's `seq`.
    seq BIGINT PRIMARY KEY
);

CREATE FUNCTION job_search_queue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO job_search_pending (seq) VALUES (NEW.seq) ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

-- A job that ends, or an ended job that changes (another end, its parameters or its error
-- written again): queued to be written, or written again.
DROP TRIGGER job_search_ended ON jobs;
CREATE TRIGGER job_search_ended AFTER UPDATE OF status, params, step, error_code, error_message
    ON jobs FOR EACH ROW
    WHEN (NEW.status IN ('succeeded', 'failed', 'cancelled', 'interrupted')
        AND (OLD.status IS DISTINCT FROM NEW.status
            OR OLD.params IS DISTINCT FROM NEW.params OR OLD.step IS DISTINCT FROM NEW.step
            OR OLD.error_code IS DISTINCT FROM NEW.error_code
            OR OLD.error_message IS DISTINCT FROM NEW.error_message))
    EXECUTE FUNCTION job_search_queue();

-- An ended job queued again (an interrupted one that resumes), or a job deleted (the history's
-- retention): it leaves the index and the queue.
CREATE OR REPLACE FUNCTION job_search_leave() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM job_search WHERE job = OLD.seq;
    DELETE FROM job_search_pending WHERE seq = OLD.seq;
    RETURN NULL;
END
$$;

DROP TRIGGER job_search_delete ON jobs;
CREATE TRIGGER job_search_delete AFTER DELETE ON jobs
    FOR EACH ROW EXECUTE FUNCTION job_search_leave();
