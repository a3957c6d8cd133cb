-- The kinds workers on other machines declare, each name owned by the worker token that first
-- declared it: another token's worker that declares the same name is refused, and only the
-- owner's workers take its jobs. `declaration` is what the kind's jobs are made and run by
-- (its parameters, their types, the tags it requires), as canonical JSON: it changes only while
-- none of the kind's jobs is queued or running. Revoking the token frees its names.
CREATE TABLE worker_kinds (
    name        TEXT COLLATE "C" PRIMARY KEY,
    token_id    TEXT COLLATE "C" NOT NULL,
    declaration TEXT   NOT NULL,
    declared_at BIGINT NOT NULL
);
CREATE INDEX worker_kinds_by_token ON worker_kinds (token_id);
