-- Workflow runs (model/src/workflows/run.rs): a run is a job of kind `workflow`, its steps jobs
-- whose `parent_id` is that job and `step` their step's name. The run's job keeps its `plan`
-- (the steps as declared when it started, as JSON): the transaction that ends a step reads it
-- to render the next steps' parameters and to settle the run.
ALTER TABLE jobs ADD COLUMN parent_id TEXT;
ALTER TABLE jobs ADD COLUMN step TEXT;
ALTER TABLE jobs ADD COLUMN plan TEXT;
CREATE INDEX jobs_parent ON jobs (parent_id) WHERE parent_id IS NOT NULL;
