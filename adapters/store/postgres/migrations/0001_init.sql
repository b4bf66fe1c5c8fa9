-- The initial schema: conversations, sessions and their event log, the
-- outbox, transcripts and opt-outs.
--
-- Times are timestamptz, which keeps microseconds, the precision
-- core.SystemClock keeps, so a time read back equals the time written.
-- The zero time.Time is stored as NULL ("not happened yet"); orderings
-- say NULLS LAST where Go would sort the zero time as the oldest.
--
-- Constraints are named, because the store maps a violation to the error
-- callers expect by the constraint's name (errors.go).

CREATE TABLE conversations (
    id               text    NOT NULL,
    customer_channel text    NOT NULL,
    customer_address text    NOT NULL,
    customer_name    text    NOT NULL,
    desk_channel     text    NOT NULL,
    desk_address     text    NOT NULL,
    -- The platform thread under the desk that holds the conversation; ''
    -- until the desk channel starts one.
    desk_thread      text    NOT NULL,
    locale           text    NOT NULL,
    state            text    NOT NULL,
    created_at       timestamptz,
    updated_at       timestamptz,
    version          integer NOT NULL,
    CONSTRAINT conversations_pkey PRIMARY KEY (id)
);

-- A customer endpoint has at most one open conversation. The zero endpoint
-- means "nowhere" (core.Endpoint.IsZero) and never collides.
CREATE UNIQUE INDEX conversations_open_customer
    ON conversations (customer_channel, customer_address)
    WHERE state = 'open' AND (customer_channel <> '' OR customer_address <> '');

-- An agent's reply in a desk thread finds its conversation by the thread.
CREATE INDEX conversations_desk_thread
    ON conversations (desk_channel, desk_address, desk_thread)
    WHERE desk_thread <> '';

-- The console lists conversations by recent activity.
CREATE INDEX conversations_updated ON conversations (updated_at DESC NULLS LAST, id DESC);

CREATE TABLE sessions (
    id              text    NOT NULL,
    conversation_id text    NOT NULL,
    provider        text    NOT NULL,
    provider_ref    text    NOT NULL,
    pin             text    NOT NULL,
    pin_expires_at  timestamptz,
    desktop_url     text    NOT NULL,
    mobile_url      text    NOT NULL,
    manual_url      text    NOT NULL,
    state           text    NOT NULL,
    device          text    NOT NULL,
    mode            text    NOT NULL,
    agent           text    NOT NULL,
    technician      text    NOT NULL,
    locale          text    NOT NULL,
    customer_key    text    NOT NULL,
    created_at      timestamptz,
    updated_at      timestamptz,
    joined_at       timestamptz,
    started_at      timestamptz,
    ended_at        timestamptz,
    version         integer NOT NULL,
    CONSTRAINT sessions_pkey PRIMARY KEY (id),
    CONSTRAINT sessions_conversation_fk FOREIGN KEY (conversation_id) REFERENCES conversations (id)
);

-- A PIN is taken while a customer can still use it (core.State.PINLive).
-- The index makes two live sessions with one PIN impossible, however many
-- replicas race, and serves FindSessionByPIN.
CREATE UNIQUE INDEX sessions_live_pin ON sessions (pin) WHERE state IN ('issued', 'sent');
CREATE INDEX sessions_state ON sessions (state);
CREATE INDEX sessions_conversation ON sessions (conversation_id);
CREATE INDEX sessions_created ON sessions (created_at DESC NULLS LAST, id DESC);
-- The sweeper looks for live PINs past their lifetime; only live sessions
-- are indexed, so the index stays as small as the number of live PINs.
CREATE INDEX sessions_live_expiry ON sessions (pin_expires_at NULLS FIRST)
    WHERE state IN ('issued', 'sent');

-- The event log, the sessions' audit trail.
CREATE TABLE events (
    id         bigint GENERATED ALWAYS AS IDENTITY,
    session_id text   NOT NULL,
    at         timestamptz,
    actor      text   NOT NULL,
    action     text   NOT NULL,
    from_state text   NOT NULL,
    to_state   text   NOT NULL,
    detail     text   NOT NULL,
    CONSTRAINT events_pkey PRIMARY KEY (id),
    CONSTRAINT events_session_fk FOREIGN KEY (session_id) REFERENCES sessions (id)
);

CREATE INDEX events_session ON events (session_id, id);

-- The outbox. Identity values are never reused, should old deliveries one
-- day be purged: channels' status reports and logs refer to them.
CREATE TABLE outbox (
    id              bigint  GENERATED ALWAYS AS IDENTITY,
    -- NULL when the notice concerns no session or conversation.
    session_id      text,
    conversation_id text,
    to_channel      text    NOT NULL,
    to_address      text    NOT NULL,
    notice          jsonb   NOT NULL, -- core.Notice
    status          text    NOT NULL,
    reason          text    NOT NULL,
    attempts        integer NOT NULL,
    next_attempt_at timestamptz,
    external_id     text    NOT NULL,
    created_at      timestamptz,
    updated_at      timestamptz,
    CONSTRAINT outbox_pkey PRIMARY KEY (id),
    CONSTRAINT outbox_session_fk FOREIGN KEY (session_id) REFERENCES sessions (id),
    CONSTRAINT outbox_conversation_fk FOREIGN KEY (conversation_id) REFERENCES conversations (id)
);

-- ClaimDeliveries walks the queued deliveries in id order; once delivered
-- or failed a delivery leaves this index.
CREATE INDEX outbox_queued ON outbox (id) WHERE status = 'queued';
CREATE INDEX outbox_external ON outbox (to_channel, external_id) WHERE external_id <> '';
CREATE INDEX outbox_session ON outbox (session_id, id);
CREATE INDEX outbox_conversation ON outbox (conversation_id, id);

-- Transcripts.
CREATE TABLE messages (
    id              bigint GENERATED ALWAYS AS IDENTITY,
    conversation_id text   NOT NULL,
    direction       text   NOT NULL,
    author          text   NOT NULL,
    text            text   NOT NULL,
    at              timestamptz,
    -- The platform's id of the message ('' when none): a platform's retry
    -- must not record the message twice.
    source          text   NOT NULL,
    CONSTRAINT messages_pkey PRIMARY KEY (id),
    CONSTRAINT messages_conversation_fk FOREIGN KEY (conversation_id) REFERENCES conversations (id)
);

CREATE INDEX messages_conversation ON messages (conversation_id, id);
CREATE UNIQUE INDEX messages_source ON messages (source) WHERE source <> '';

-- Endpoints that asked to receive nothing more (an SMS STOP). A START
-- deletes the row.
CREATE TABLE opt_outs (
    channel text NOT NULL,
    address text NOT NULL,
    at      timestamptz,
    CONSTRAINT opt_outs_pkey PRIMARY KEY (channel, address)
);

-- The event log and the transcripts are records of what happened and of
-- what people wrote: nothing may rewrite them, whoever connects. Row
-- triggers refuse UPDATE and DELETE; a statement trigger refuses
-- TRUNCATE, which row triggers do not see.
CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% are append-only', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();
CREATE TRIGGER messages_append_only BEFORE UPDATE OR DELETE ON messages
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER messages_no_truncate BEFORE TRUNCATE ON messages
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();
