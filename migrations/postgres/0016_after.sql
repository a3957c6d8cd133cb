-- Continuations (model/src/after.rs): the jobs a job starts after and on what condition, as
-- JSON (`{"jobs": [...], "when": "succeeded"}`), and how many of them have not ended. While
-- `needs_left` is above 0 the job waits queued with a rank behind every other (Job::WAITING_RANK).
ALTER TABLE jobs ADD COLUMN after_jobs TEXT;
ALTER TABLE jobs ADD COLUMN needs_left BIGINT NOT NULL DEFAULT 0;
-- A row per job not ended yet that another waits for: the transaction that ends the need takes
-- its rows and settles the jobs waiting for it.
CREATE TABLE job_needs (
    need_id TEXT NOT NULL,
    job_id  TEXT NOT NULL,
    PRIMARY KEY (need_id, job_id)
);
