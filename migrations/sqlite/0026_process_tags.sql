-- The tags each process offers (`--tags`), comma-separated: a job whose kind requires tags that
-- no live process offers says so while it waits.
ALTER TABLE processes ADD COLUMN tags TEXT NOT NULL DEFAULT '';
