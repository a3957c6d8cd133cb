-- Webhooks: URLs told when jobs end, and each delivery to them. A delivery is inserted in the
-- transaction that ends its job, and kept until it is answered with a 2xx or given up on.
-- `statuses` and `kinds` are JSON arrays (empty: every end, every kind); the secret signs
-- deliveries, so it is kept as it is.
CREATE TABLE webhooks (
    id              TEXT    PRIMARY KEY NOT NULL,
    owner           TEXT    NOT NULL,
    owner_name      TEXT    NOT NULL,
    url             TEXT    NOT NULL,
    statuses        TEXT    NOT NULL,
    kinds           TEXT    NOT NULL,
    secret          TEXT    NOT NULL,
    format          TEXT    NOT NULL CHECK (format IN ('json', 'slack')),
    scope           TEXT    NOT NULL CHECK (scope IN ('own', 'all')),
    enabled         INTEGER NOT NULL,
    disabled_reason TEXT,
    failing_since   INTEGER,
    created_at      INTEGER NOT NULL
);
CREATE INDEX webhooks_owner ON webhooks (owner);

-- `retry_from`: when the current round of attempts began (its creation, or a resend); a
-- delivery is retried for a day from then.
CREATE TABLE webhook_deliveries (
    id              TEXT    PRIMARY KEY NOT NULL,
    webhook_id      TEXT    NOT NULL,
    event           TEXT    NOT NULL,
    job_id          TEXT,
    payload         TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    retry_from      INTEGER NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_attempt_at INTEGER,
    last_status     INTEGER,
    last_error      TEXT,
    next_attempt_at INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_of ON webhook_deliveries (webhook_id, created_at);
