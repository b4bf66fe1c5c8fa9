-- Reports (core.ReportStore) read one summary row a session rather than
-- its event log: what the log says of it (reportSQL's figures) and what
-- the rows are grouped by. The database keeps it, by the triggers below,
-- in the transaction that writes the session, its events or its
-- conversation, so no code path can forget it; what it holds is exactly
-- what the log gives, as the tests that replay histories check.
--
-- issued_at is the session's issue event's time (NULL before it);
-- join_at and start_at the first join and start; sent counts the send
-- events; ended and closed say whether there is such an event; expired
-- is the id of the last expire event and regenerated of the last
-- regenerate one (0 for none): the session counts as expired when the
-- former is greater. agent, technician and provider are the session's,
-- channel its conversation's customer channel, as they now stand.
CREATE TABLE report_sessions (
    session_id  text        NOT NULL,
    issued_at   timestamptz,
    agent       text        NOT NULL,
    technician  text        NOT NULL,
    channel     text        NOT NULL,
    provider    text        NOT NULL,
    sent        integer     NOT NULL DEFAULT 0,
    join_at     timestamptz,
    start_at    timestamptz,
    ended       boolean     NOT NULL DEFAULT false,
    closed      boolean     NOT NULL DEFAULT false,
    expired     bigint      NOT NULL DEFAULT 0,
    regenerated bigint      NOT NULL DEFAULT 0,
    CONSTRAINT report_sessions_pkey PRIMARY KEY (session_id)
);

-- The backfill, from the log.
INSERT INTO report_sessions (session_id, issued_at, agent, technician, channel, provider,
    sent, join_at, start_at, ended, closed, expired, regenerated)
SELECT s.id, e.issued_at, s.agent, s.technician, c.customer_channel, s.provider,
    coalesce(e.sent, 0), e.join_at, e.start_at, coalesce(e.ended, false), coalesce(e.closed, false),
    coalesce(e.expired, 0), coalesce(e.regenerated, 0)
FROM sessions s
JOIN conversations c ON c.id = s.conversation_id
LEFT JOIN (
    SELECT session_id,
        min(at) FILTER (WHERE action = 'issue') AS issued_at,
        count(*) FILTER (WHERE action = 'send') AS sent,
        min(at) FILTER (WHERE action = 'join') AS join_at,
        min(at) FILTER (WHERE action = 'start') AS start_at,
        bool_or(action = 'end') AS ended,
        bool_or(action = 'close') AS closed,
        max(id) FILTER (WHERE action = 'expire') AS expired,
        max(id) FILTER (WHERE action = 'regenerate') AS regenerated
    FROM events
    GROUP BY session_id
) e ON e.session_id = s.id;

-- A report reads the sessions issued in its range by this index. Only an
-- issue event changes an entry: other events' updates stay HOT.
CREATE INDEX report_sessions_issued ON report_sessions (issued_at);

-- The functions run with the search_path of the migration, which names
-- the store's schema, whatever the connection that fires them has.
CREATE FUNCTION report_sessions_insert() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO report_sessions (session_id, agent, technician, channel, provider)
    VALUES (NEW.id, NEW.agent, NEW.technician,
        (SELECT customer_channel FROM conversations WHERE id = NEW.conversation_id), NEW.provider);
    RETURN NULL;
END
$$;

CREATE TRIGGER report_sessions_insert AFTER INSERT ON sessions
    FOR EACH ROW EXECUTE FUNCTION report_sessions_insert();

CREATE FUNCTION report_sessions_update() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE report_sessions SET agent = NEW.agent, technician = NEW.technician, provider = NEW.provider,
        channel = (SELECT customer_channel FROM conversations WHERE id = NEW.conversation_id)
    WHERE session_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER report_sessions_update AFTER UPDATE OF agent, technician, provider, conversation_id ON sessions
    FOR EACH ROW
    WHEN (OLD.agent IS DISTINCT FROM NEW.agent OR OLD.technician IS DISTINCT FROM NEW.technician
        OR OLD.provider IS DISTINCT FROM NEW.provider OR OLD.conversation_id IS DISTINCT FROM NEW.conversation_id)
    EXECUTE FUNCTION report_sessions_update();

CREATE FUNCTION report_sessions_channel() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE report_sessions SET channel = NEW.customer_channel
    WHERE session_id IN (SELECT id FROM sessions WHERE conversation_id = NEW.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER report_sessions_channel AFTER UPDATE OF customer_channel ON conversations
    FOR EACH ROW WHEN (OLD.customer_channel IS DISTINCT FROM NEW.customer_channel)
    EXECUTE FUNCTION report_sessions_channel();

CREATE FUNCTION report_sessions_event() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
BEGIN
    CASE NEW.action
    WHEN 'issue' THEN
        UPDATE report_sessions SET issued_at = least(issued_at, NEW.at) WHERE session_id = NEW.session_id;
    WHEN 'send' THEN
        UPDATE report_sessions SET sent = sent + 1 WHERE session_id = NEW.session_id;
    WHEN 'join' THEN
        UPDATE report_sessions SET join_at = least(join_at, NEW.at) WHERE session_id = NEW.session_id;
    WHEN 'start' THEN
        UPDATE report_sessions SET start_at = least(start_at, NEW.at) WHERE session_id = NEW.session_id;
    WHEN 'end' THEN
        UPDATE report_sessions SET ended = true WHERE session_id = NEW.session_id;
    WHEN 'close' THEN
        UPDATE report_sessions SET closed = true WHERE session_id = NEW.session_id;
    WHEN 'expire' THEN
        UPDATE report_sessions SET expired = greatest(expired, NEW.id) WHERE session_id = NEW.session_id;
    WHEN 'regenerate' THEN
        UPDATE report_sessions SET regenerated = greatest(regenerated, NEW.id) WHERE session_id = NEW.session_id;
    END CASE;
    RETURN NULL;
END
$$;

CREATE TRIGGER report_sessions_event AFTER INSERT ON events
    FOR EACH ROW
    WHEN (NEW.action IN ('issue', 'send', 'join', 'start', 'end', 'close', 'expire', 'regenerate'))
    EXECUTE FUNCTION report_sessions_event();
