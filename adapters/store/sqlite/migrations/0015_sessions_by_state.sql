-- A list of several states is read as a page of each state, newest first,
-- and the page is the newest of those (findSessionsSQL): read through
-- sessions_created instead, the console's last finished sessions walked
-- past every newer live session. With the id in it, this index gives a
-- state's page in order, ties included, without reading the rows; it
-- replaces the one on (state, created_at).
DROP INDEX sessions_state;
CREATE INDEX sessions_state ON sessions (state, created_at, id);
