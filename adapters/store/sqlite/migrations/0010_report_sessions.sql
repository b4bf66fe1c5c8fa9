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
    session_seq INTEGER NOT NULL PRIMARY KEY,
    issued_at   INTEGER,
    agent       TEXT    NOT NULL,
    technician  TEXT    NOT NULL,
    channel     TEXT    NOT NULL,
    provider    TEXT    NOT NULL,
    sent        INTEGER NOT NULL DEFAULT 0,
    join_at     INTEGER,
    start_at    INTEGER,
    ended       INTEGER NOT NULL DEFAULT 0,
    closed      INTEGER NOT NULL DEFAULT 0,
    expired     INTEGER NOT NULL DEFAULT 0,
    regenerated INTEGER NOT NULL DEFAULT 0
) STRICT;

-- The backfill, from the log.
INSERT INTO report_sessions (session_seq, issued_at, agent, technician, channel, provider,
    sent, join_at, start_at, ended, closed, expired, regenerated)
SELECT s.seq, e.issued_at, s.agent, s.technician, c.customer_channel, s.provider,
    coalesce(e.sent, 0), e.join_at, e.start_at, coalesce(e.ended, 0), coalesce(e.closed, 0),
    coalesce(e.expired, 0), coalesce(e.regenerated, 0)
FROM sessions s
JOIN conversations c ON c.seq = s.conversation_seq
LEFT JOIN (
    SELECT session_seq,
        MIN(CASE WHEN action = 'issue' THEN at END) AS issued_at,
        SUM(action = 'send') AS sent,
        MIN(CASE WHEN action = 'join' THEN at END) AS join_at,
        MIN(CASE WHEN action = 'start' THEN at END) AS start_at,
        MAX(action = 'end') AS ended,
        MAX(action = 'close') AS closed,
        MAX(CASE WHEN action = 'expire' THEN id END) AS expired,
        MAX(CASE WHEN action = 'regenerate' THEN id END) AS regenerated
    FROM events
    GROUP BY session_seq
) e ON e.session_seq = s.seq;

-- A report reads the sessions issued in its range by this index, and
-- their rows by their seq, which grows with the issue time as the index
-- does. Only an issue event changes an entry.
CREATE INDEX report_sessions_issued ON report_sessions (issued_at);

CREATE TRIGGER report_sessions_insert AFTER INSERT ON sessions
BEGIN
    INSERT INTO report_sessions (session_seq, agent, technician, channel, provider)
    VALUES (NEW.seq, NEW.agent, NEW.technician,
        (SELECT customer_channel FROM conversations WHERE seq = NEW.conversation_seq), NEW.provider);
END;

CREATE TRIGGER report_sessions_update AFTER UPDATE OF agent, technician, provider, conversation_seq ON sessions
WHEN OLD.agent IS NOT NEW.agent OR OLD.technician IS NOT NEW.technician
    OR OLD.provider IS NOT NEW.provider OR OLD.conversation_seq IS NOT NEW.conversation_seq
BEGIN
    UPDATE report_sessions SET agent = NEW.agent, technician = NEW.technician, provider = NEW.provider,
        channel = (SELECT customer_channel FROM conversations WHERE seq = NEW.conversation_seq)
    WHERE session_seq = NEW.seq;
END;

CREATE TRIGGER report_sessions_channel AFTER UPDATE OF customer_channel ON conversations
WHEN OLD.customer_channel IS NOT NEW.customer_channel
BEGIN
    UPDATE report_sessions SET channel = NEW.customer_channel
    WHERE session_seq IN (SELECT seq FROM sessions WHERE conversation_seq = NEW.seq);
END;

-- One trigger an action that reports count, each setting only its
-- columns, so that an event rewrites only the index entry it changes.
CREATE TRIGGER report_sessions_issue AFTER INSERT ON events WHEN NEW.action = 'issue'
BEGIN
    UPDATE report_sessions SET issued_at = min(coalesce(issued_at, NEW.at), NEW.at)
    WHERE session_seq = NEW.session_seq;
END;

CREATE TRIGGER report_sessions_send AFTER INSERT ON events WHEN NEW.action = 'send'
BEGIN
    UPDATE report_sessions SET sent = sent + 1 WHERE session_seq = NEW.session_seq;
END;

CREATE TRIGGER report_sessions_join AFTER INSERT ON events WHEN NEW.action = 'join'
BEGIN
    UPDATE report_sessions SET join_at = min(coalesce(join_at, NEW.at), NEW.at)
    WHERE session_seq = NEW.session_seq;
END;

CREATE TRIGGER report_sessions_start AFTER INSERT ON events WHEN NEW.action = 'start'
BEGIN
    UPDATE report_sessions SET start_at = min(coalesce(start_at, NEW.at), NEW.at)
    WHERE session_seq = NEW.session_seq;
END;

CREATE TRIGGER report_sessions_end AFTER INSERT ON events WHEN NEW.action = 'end'
BEGIN
    UPDATE report_sessions SET ended = 1 WHERE session_seq = NEW.session_seq;
END;

CREATE TRIGGER report_sessions_close AFTER INSERT ON events WHEN NEW.action = 'close'
BEGIN
    UPDATE report_sessions SET closed = 1 WHERE session_seq = NEW.session_seq;
END;

CREATE TRIGGER report_sessions_expire AFTER INSERT ON events WHEN NEW.action = 'expire'
BEGIN
    UPDATE report_sessions SET expired = max(expired, NEW.id) WHERE session_seq = NEW.session_seq;
END;

CREATE TRIGGER report_sessions_regenerate AFTER INSERT ON events WHEN NEW.action = 'regenerate'
BEGIN
    UPDATE report_sessions SET regenerated = max(regenerated, NEW.id) WHERE session_seq = NEW.session_seq;
END;
