-- Files a job wrote (a JSON array of {name, size, content_type, created_at}; the bytes are in
-- the file store) and the small JSON object it set as its result.
ALTER TABLE jobs ADD COLUMN outputs TEXT;
ALTER TABLE jobs ADD COLUMN result TEXT;

-- Uploaded files, the inputs of jobs' file parameters; the bytes are in the file store under
-- the id. `name` is for display only. An upload no job used is deleted a day after it came.
CREATE TABLE uploads (
    id           TEXT    PRIMARY KEY,
    owner        TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    looks_like   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    used_at      INTEGER
);
CREATE INDEX uploads_by_owner ON uploads (owner, created_at);
CREATE INDEX uploads_by_age ON uploads (created_at);

-- The file store this database's files are in: each process checks at start that its file
-- store folder holds this id, so that processes sharing the database share the files too.
CREATE TABLE file_store (
    one        INTEGER PRIMARY KEY CHECK (one = 1),
    id         TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
