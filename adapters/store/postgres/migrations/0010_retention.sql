-- Retention (store.retention) deletes finished sessions with their event
-- logs, and closed conversations with their transcripts. The logs stay
-- records nobody rewrites: an UPDATE is still refused always, TRUNCATE
-- too, and a DELETE unless the row's session has finished (ended, closed
-- or expired: an expired one given a new PIN is live again, and so is its
-- log) or its conversation has closed. A pruned row's session or
-- conversation is
-- deleted in the same transaction, after it. The functions look up
-- sessions and conversations in the migration's schema (search_path FROM
-- CURRENT), whoever's connection deletes.
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'events are append-only' USING ERRCODE = 'restrict_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM sessions
            WHERE id = OLD.session_id AND state IN ('issued', 'sent', 'waiting', 'active')) THEN
        RAISE EXCEPTION 'events are append-only while their session can change'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN OLD;
END
$$;

CREATE FUNCTION messages_append_only() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'messages are append-only' USING ERRCODE = 'restrict_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM conversations
            WHERE id = OLD.conversation_id AND state = 'open') THEN
        RAISE EXCEPTION 'messages are append-only while their conversation is open'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN OLD;
END
$$;

DROP TRIGGER events_append_only ON events;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
DROP TRIGGER messages_append_only ON messages;
CREATE TRIGGER messages_append_only BEFORE UPDATE OR DELETE ON messages
    FOR EACH ROW EXECUTE FUNCTION messages_append_only();

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
