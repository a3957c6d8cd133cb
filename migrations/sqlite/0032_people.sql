-- Who did something to a job (model::Actor as JSON): the account that started it, and the one
-- that asked for it to be cancelled. Where each attempt ran is the process that claimed it
-- (`claimed_by`, kept once the job ends; an attempt tried again keeps it in `attempts`).
ALTER TABLE jobs ADD COLUMN started_by TEXT;
ALTER TABLE jobs ADD COLUMN cancelled_by TEXT;
