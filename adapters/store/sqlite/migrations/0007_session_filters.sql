-- The API lists an agent's sessions newest first, a page at a time after
-- a cursor (created_at, id): the index holds them in that order, so a
-- page reads its own rows and no more. Listing by customer channel reads
-- sessions_created newest first and each session's conversation by its
-- key: a handful of channels, each common, need no index of their own.
CREATE INDEX sessions_agent ON sessions (agent, created_at, id);
