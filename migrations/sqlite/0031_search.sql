-- Search over the history: what a person types finds a job by its id, kind, step, parameters
-- (an external job's title among them), error code and message, and its message as it ended,
-- Chinese as well as English. An FTS5 index with the trigram tokenizer matches any run of three
-- or more characters anywhere, without regard to case; it keeps no copy of the text
-- (contentless), only the index, with the job's `seq` as its row id.
--
-- Written by these triggers, whichever path writes a job: when it is stored, when it ends (its
-- message is then the one it ended with) and when its parameters or error change. A running
-- job's progress messages are not indexed as they change: that would cost every progress
-- write; the history's search matches the live message of an unfinished job by itself.
CREATE VIRTUAL TABLE job_search USING fts5(
    doc, content = '', contentless_delete = 1, tokenize = 'trigram'
);

INSERT INTO job_search (rowid, doc)
    SELECT seq, id || ' ' || kind || ' ' || COALESCE(step, '') || ' ' || params || ' ' ||
        COALESCE(error_code, '') || ' ' || COALESCE(error_message, '') || ' ' || message
    FROM jobs;

CREATE TRIGGER job_search_insert AFTER INSERT ON jobs BEGIN
    INSERT INTO job_search (rowid, doc) VALUES (NEW.seq,
        NEW.id || ' ' || NEW.kind || ' ' || COALESCE(NEW.step, '') || ' ' || NEW.params || ' ' ||
        COALESCE(NEW.error_code, '') || ' ' || COALESCE(NEW.error_message, '') || ' ' ||
        NEW.message);
END;

CREATE TRIGGER job_search_update AFTER UPDATE OF status, params, step, error_code, error_message
ON jobs
WHEN (OLD.status IS NOT NEW.status
        AND NEW.status IN ('succeeded', 'failed', 'cancelled', 'interrupted'))
    OR OLD.params IS NOT NEW.params OR OLD.step IS NOT NEW.step
    OR OLD.error_code IS NOT NEW.error_code OR OLD.error_message IS NOT NEW.error_message
BEGIN
    DELETE FROM job_search WHERE rowid = OLD.seq;
    INSERT INTO job_search (rowid, doc) VALUES (NEW.seq,
        NEW.id || ' ' || NEW.kind || ' ' || COALESCE(NEW.step, '') || ' ' || NEW.params || ' ' ||
        COALESCE(NEW.error_code, '') || ' ' || COALESCE(NEW.error_message, '') || ' ' ||
        NEW.message);
END;

CREATE TRIGGER job_search_delete AFTER DELETE ON jobs BEGIN
    DELETE FROM job_search WHERE rowid = OLD.seq;
END;
