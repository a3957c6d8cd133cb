-- API tokens of an open server's anonymous users (a browser's), so that what `headway run`
-- reports with one shows in that browser. Only a SHA-256 of the secret is kept; honoured only
-- while the server is open (`--auth open`).
CREATE TABLE anonymous_tokens (
    id           TEXT    PRIMARY KEY NOT NULL,
    user_id      TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    scope        TEXT    NOT NULL CHECK (scope IN ('read', 'write')),
    hash         TEXT    NOT NULL UNIQUE,
    created_at   BIGINT  NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX anonymous_tokens_user ON anonymous_tokens (user_id);
