-- External jobs (kind `external`): programs running elsewhere that report over HTTP. Such a
-- job is claimed by no process; it is taken for lost when its lease ends without a report.
-- `report_hash` is the SHA-256 of the token that may report for it, and nothing else.
ALTER TABLE jobs ADD COLUMN lease_until INTEGER;
ALTER TABLE jobs ADD COLUMN report_hash TEXT;
CREATE INDEX jobs_leases ON jobs (lease_until) WHERE lease_until IS NOT NULL AND status IN ('running', 'cancelling');
