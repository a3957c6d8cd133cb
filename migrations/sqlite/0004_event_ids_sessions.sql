-- Event ids are allocated by the store inside the transaction that writes their events, from one
-- counter row: a batch's ids are exactly the ones it commits, in commit order.
CREATE TABLE event_ids (
    one  INTEGER PRIMARY KEY CHECK (one = 1),
    last INTEGER NOT NULL
);

INSERT INTO event_ids (one, last) VALUES (1, MAX(
    COALESCE((SELECT MAX(id) FROM events), 0),
    COALESCE((SELECT MAX(event_id) FROM jobs), 0),
    COALESCE((SELECT MAX(id) FROM notices), 0)
));

-- Sessions: the table earlier versions created through tower-sessions' SQLite store, so that
-- existing sessions (and with them their users' jobs) stay valid. Expiry becomes Unix seconds,
-- and the user is kept beside the record so that a user's sessions can be found.
CREATE TABLE IF NOT EXISTS tower_sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    data        BLOB NOT NULL,
    expiry_date INTEGER NOT NULL
);

UPDATE tower_sessions SET expiry_date = CAST(strftime('%s', substr(expiry_date, 1, 19)) AS INTEGER)
    WHERE typeof(expiry_date) = 'text';

ALTER TABLE tower_sessions ADD COLUMN user TEXT;

CREATE INDEX tower_sessions_expiry ON tower_sessions (expiry_date);
CREATE INDEX tower_sessions_user ON tower_sessions (user) WHERE user IS NOT NULL;
