-- The conversation relay: desk threads, transcripts and SMS opt-outs.

-- The platform thread under the desk that holds a conversation; '' until
-- the desk channel starts one.
ALTER TABLE conversations ADD COLUMN desk_thread TEXT NOT NULL DEFAULT '';

-- An agent's reply in a desk thread finds its conversation by the thread.
CREATE INDEX conversations_desk_thread
    ON conversations (desk_channel, desk_address, desk_thread)
    WHERE desk_thread <> '';

-- The console lists conversations by recent activity.
CREATE INDEX conversations_updated ON conversations (updated_at);

CREATE TABLE messages (
    seq              INTEGER NOT NULL PRIMARY KEY,
    conversation_seq INTEGER NOT NULL REFERENCES conversations (seq),
    direction        TEXT    NOT NULL,
    author           TEXT    NOT NULL,
    text             TEXT    NOT NULL,
    at               INTEGER NOT NULL,
    -- The platform's id of the message ('' when none): a platform's retry
    -- must not record the message twice.
    source           TEXT    NOT NULL
) STRICT;

CREATE INDEX messages_conversation ON messages (conversation_seq, seq);
CREATE UNIQUE INDEX messages_source ON messages (source) WHERE source <> '';

-- Transcripts are records of what people wrote: never rewritten.
CREATE TRIGGER messages_no_update BEFORE UPDATE ON messages
BEGIN
    SELECT RAISE(ABORT, 'messages are append-only');
END;
CREATE TRIGGER messages_no_delete BEFORE DELETE ON messages
BEGIN
    SELECT RAISE(ABORT, 'messages are append-only');
END;

-- Endpoints that asked to receive nothing more (an SMS STOP). A START
-- deletes the row.
CREATE TABLE opt_outs (
    channel TEXT    NOT NULL,
    address TEXT    NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (channel, address)
) STRICT, WITHOUT ROWID;
