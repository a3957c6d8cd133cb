-- Search over the history: what a person types finds a job by its id, kind, step, parameters
-- (an external job's title among them), error code and message, and its message as it ended,
-- Chinese as well as English. `pg_trgm`'s GIN index matches any run of three or more
-- characters anywhere, without regard to case (`ILIKE`). pg_trgm ships with PostgreSQL and is a
-- trusted extension: the database's owner may create it.
--
-- The text is kept in a table of its own, keyed by the job's `seq` (`job`), so that a job's
-- progress writes (its message, many times a second) stay heap-only updates that touch no index.
-- Written by these triggers, whichever path writes a job: when it is stored, when it ends (its
-- message is then the one it ended with) and when its parameters or error change; the history's
-- search matches the live message of an unfinished job by itself.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE job_search (
    -- The job's `seq`.
    job BIGINT PRIMARY KEY,
    doc TEXT   NOT NULL
);

INSERT INTO job_search (job, doc)
    SELECT seq, id || ' ' || kind || ' ' || COALESCE(step, '') || ' ' || params || ' ' ||
        COALESCE(error_code, '') || ' ' || COALESCE(error_message, '') || ' ' || message
    FROM jobs;

CREATE INDEX job_search_doc ON job_search USING gin (doc gin_trgm_ops);

CREATE FUNCTION job_search_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM job_search WHERE job = OLD.seq;
        RETURN NULL;
    END IF;
    INSERT INTO job_search (job, doc) VALUES (NEW.seq,
        NEW.id || ' ' || NEW.kind || ' ' || COALESCE(NEW.step, '') || ' ' || NEW.params || ' ' ||
        COALESCE(NEW.error_code, '') || ' ' || COALESCE(NEW.error_message, '') || ' ' ||
        NEW.message)
    ON CONFLICT (job) DO UPDATE SET doc = EXCLUDED.doc;
    RETURN NULL;
END
$$;

CREATE TRIGGER job_search_insert AFTER INSERT ON jobs
    FOR EACH ROW EXECUTE FUNCTION job_search_follow();
CREATE TRIGGER job_search_update AFTER UPDATE OF status, params, step, error_code, error_message
    ON jobs FOR EACH ROW
    WHEN ((OLD.status IS DISTINCT FROM NEW.status
            AND NEW.status IN ('succeeded', 'failed', 'cancelled', 'interrupted'))
        OR OLD.params IS DISTINCT FROM NEW.params OR OLD.step IS DISTINCT FROM NEW.step
        OR OLD.error_code IS DISTINCT FROM NEW.error_code
        OR OLD.error_message IS DISTINCT FROM NEW.error_message)
    EXECUTE FUNCTION job_search_follow();
CREATE TRIGGER job_search_delete AFTER DELETE ON jobs
    FOR EACH ROW EXECUTE FUNCTION job_search_follow();
