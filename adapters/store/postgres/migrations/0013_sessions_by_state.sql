-- A list of several states is read as a page of each state, newest first,
-- and the page is the newest of those (findSessionsSQL): read through
-- sessions_listed instead, the console's last finished sessions walked
-- past every newer live session. This index, in the list's order within
-- each state, replaces the one on the state alone, which served the same
-- lookups by state.
DROP INDEX sessions_state;
CREATE INDEX sessions_state
    ON sessions (state, (COALESCE(created_at, '-infinity'::timestamptz)) DESC, id DESC);
