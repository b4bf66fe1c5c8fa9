-- The API lists sessions newest first, a page at a time after a cursor,
-- between two creation times, for one agent or one customer channel.
-- Sessions are listed by their creation time, one without (NULL) taken as
-- the earliest: spelt as FindSessions spells it, the order and each bound
-- on it (since, until, the cursor) are ranges of the index, so a page
-- reads its own rows and no more. sessions_created stays for the
-- replicas of the previous version during an upgrade.
CREATE INDEX sessions_listed
    ON sessions ((COALESCE(created_at, '-infinity'::timestamptz)) DESC, id DESC);
CREATE INDEX sessions_agent
    ON sessions (agent, (COALESCE(created_at, '-infinity'::timestamptz)) DESC, id DESC);
-- A channel few customers use is found from its conversations rather
-- than by reading every session; the planner picks, as the statistics
-- say how common the channel is.
CREATE INDEX conversations_customer_channel ON conversations (customer_channel, id);
