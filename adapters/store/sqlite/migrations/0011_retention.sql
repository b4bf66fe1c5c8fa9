-- Retention (store.retention) deletes finished sessions with their event
-- logs, and closed conversations with their transcripts. The logs stay
-- records nobody rewrites: an UPDATE is still refused always, and a
-- DELETE unless the row's session has finished (ended, closed or
-- expired: an expired one given a new PIN is live again, and so is its
-- log) or its conversation has closed.
DROP TRIGGER events_no_delete;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
WHEN EXISTS (SELECT 1 FROM sessions WHERE seq = OLD.session_seq
    AND state IN ('issued', 'sent', 'waiting', 'active'))
BEGIN
    SELECT RAISE(ABORT, 'events are append-only while their session can change');
END;

DROP TRIGGER messages_no_delete;
CREATE TRIGGER messages_no_delete BEFORE DELETE ON messages
WHEN EXISTS (SELECT 1 FROM conversations WHERE seq = OLD.conversation_seq AND state = 'open')
BEGIN
    SELECT RAISE(ABORT, 'messages are append-only while their conversation is open');
END;

-- The retention finds what it deletes oldest first, among the finished
-- sessions (by their last change) and the closed conversations alone:
-- however many live ones there are, a batch reads only what it deletes.
-- A session enters the index when it finishes, and moves when it changes
-- again (an expired one given a new PIN leaves it); a conversation enters
-- its index when it closes.
CREATE INDEX sessions_finished ON sessions (updated_at)
    WHERE state IN ('ended', 'closed', 'expired');
CREATE INDEX conversations_closed ON conversations (updated_at)
    WHERE state = 'closed';
