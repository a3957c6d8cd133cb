-- A job's priority (0 lowest to 4 urgent, 2 normal: model/src/priority.rs) and its rank in the
-- queue: the time it became ready to start less its level times the aging step (10 minutes).
-- Claims and queue places read the queued jobs by rank, which orders them by priority with
-- aging; a rank is written when a job is created and moved only by a change of its priority.
ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 2;
ALTER TABLE jobs ADD COLUMN rank INTEGER;
UPDATE jobs
   SET rank = CASE WHEN run_after > created_at THEN run_after ELSE created_at END - 2 * 600000
 WHERE status IN ('queued', 'running', 'cancelling');
-- The queue by rank, and each user's queued jobs by rank (a claim skips from one user with jobs
-- waiting to the next along it): in place of the same by creation order.
DROP INDEX jobs_queue;
DROP INDEX jobs_queued_by_owner;
CREATE INDEX jobs_queue ON jobs (rank, seq) WHERE status = 'queued';
CREATE INDEX jobs_queued_by_owner ON jobs (owner, rank, seq) WHERE status = 'queued';
-- A schedule's jobs' priority; NULL: their kind's.
ALTER TABLE schedules ADD COLUMN priority INTEGER;
