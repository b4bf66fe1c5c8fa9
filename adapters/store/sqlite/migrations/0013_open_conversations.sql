-- The console lists the open conversations, most recently active first.
-- Read through conversations_updated, that list walked every closed
-- conversation more recent than the oldest open one: a page cost
-- milliseconds with a thousand conversations and a second with a
-- million. This index holds the open ones alone, in the list's order.
CREATE INDEX conversations_open_updated ON conversations (updated_at, id)
    WHERE state = 'open';
