-- The initial schema.
--
-- Times are INTEGER unix microseconds in UTC, 0 for the zero time: the
-- precision core.SystemClock keeps, so a time read back equals the time
-- written. Tables are STRICT so that a value of the wrong type is refused
-- rather than silently converted.
--
-- Conversations and sessions have text ids (core.NewID). Inserting keys
-- into an index dirties a page per row, and every dirty page is written
-- to the WAL at commit: that cost, not the SQL, bounds how many sessions a
-- second the store can create. So each such table also has a seq, its
-- rowid, which only grows; other tables refer to rows by seq, and the
-- indexes on those references are appended to.

CREATE TABLE conversations (
    seq              INTEGER NOT NULL PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,
    customer_channel TEXT    NOT NULL,
    customer_address TEXT    NOT NULL,
    customer_name    TEXT    NOT NULL,
    desk_channel     TEXT    NOT NULL,
    desk_address     TEXT    NOT NULL,
    locale           TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    version          INTEGER NOT NULL
) STRICT;

-- A customer endpoint has at most one open conversation. The zero endpoint
-- means "nowhere" (core.Endpoint.IsZero) and never collides.
CREATE UNIQUE INDEX conversations_open_customer
    ON conversations (customer_channel, customer_address)
    WHERE state = 'open' AND (customer_channel <> '' OR customer_address <> '');

CREATE TABLE sessions (
    seq              INTEGER NOT NULL PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,
    conversation_seq INTEGER NOT NULL REFERENCES conversations (seq),
    provider         TEXT    NOT NULL,
    provider_ref     TEXT    NOT NULL,
    pin              TEXT    NOT NULL,
    pin_expires_at   INTEGER NOT NULL,
    desktop_url      TEXT    NOT NULL,
    mobile_url       TEXT    NOT NULL,
    manual_url       TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    device           TEXT    NOT NULL,
    mode             TEXT    NOT NULL,
    agent            TEXT    NOT NULL,
    technician       TEXT    NOT NULL,
    locale           TEXT    NOT NULL,
    customer_key     TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    joined_at        INTEGER NOT NULL,
    started_at       INTEGER NOT NULL,
    ended_at         INTEGER NOT NULL,
    version          INTEGER NOT NULL,
    -- The PIN while a customer can still use it (core.State.PINLive), NULL
    -- otherwise. The database derives it, so no code path can forget it, and
    -- the unique index below makes two live sessions with one PIN
    -- impossible, however many writers race.
    live_pin         TEXT    GENERATED ALWAYS AS (
                         CASE WHEN state IN ('issued', 'sent') THEN pin END
                     ) VIRTUAL
) STRICT;

CREATE UNIQUE INDEX sessions_live_pin ON sessions (live_pin) WHERE live_pin IS NOT NULL;
CREATE INDEX sessions_state ON sessions (state, created_at);
CREATE INDEX sessions_conversation ON sessions (conversation_seq, created_at);
CREATE INDEX sessions_created ON sessions (created_at, id);
-- The sweeper looks for live PINs past their lifetime; only live sessions
-- are indexed, so the index stays as small as the number of live PINs.
CREATE INDEX sessions_live_expiry ON sessions (pin_expires_at) WHERE live_pin IS NOT NULL;

-- The event log. Its ids come from the rowid, which only grows because
-- rows are never deleted (see the triggers).
CREATE TABLE events (
    id          INTEGER NOT NULL PRIMARY KEY,
    session_seq INTEGER NOT NULL REFERENCES sessions (seq),
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    from_state  TEXT    NOT NULL,
    to_state    TEXT    NOT NULL,
    detail      TEXT    NOT NULL
) STRICT;

CREATE INDEX events_session ON events (session_seq);

-- The log is the sessions' audit trail: nothing may rewrite it.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

-- The outbox. AUTOINCREMENT keeps a delivery id from ever being reused,
-- should old deliveries one day be purged: channels' status reports and
-- logs refer to them.
CREATE TABLE outbox (
    id               INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    -- NULL when the notice concerns no session or conversation.
    session_seq      INTEGER REFERENCES sessions (seq),
    conversation_seq INTEGER REFERENCES conversations (seq),
    to_channel       TEXT    NOT NULL,
    to_address       TEXT    NOT NULL,
    notice           TEXT    NOT NULL, -- core.Notice as JSON
    status           TEXT    NOT NULL,
    reason           TEXT    NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  INTEGER NOT NULL,
    external_id      TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) STRICT;

CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_external ON outbox (to_channel, external_id) WHERE external_id <> '';
CREATE INDEX outbox_session ON outbox (session_seq);
CREATE INDEX outbox_conversation ON outbox (conversation_seq);
