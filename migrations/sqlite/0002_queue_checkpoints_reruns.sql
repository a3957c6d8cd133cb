-- Queue order, checkpoints of resumable kinds, per-job timeouts and re-runs.

ALTER TABLE jobs ADD COLUMN timeout_ms INTEGER;
-- The job this one re-runs.
ALTER TABLE jobs ADD COLUMN origin TEXT;
-- JSON saved by a resumable kind: where to continue after an interruption.
ALTER TABLE jobs ADD COLUMN checkpoint TEXT;

CREATE INDEX jobs_queue ON jobs (seq) WHERE status = 'queued';
CREATE INDEX jobs_owner_status_seq ON jobs (owner, status, seq);
CREATE INDEX jobs_owner_kind_seq ON jobs (owner, kind, seq);
