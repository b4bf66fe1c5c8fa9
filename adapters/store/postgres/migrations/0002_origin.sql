-- Where the agent asked for a session (a channel on their platform): a
-- place to reach the customer in public when a direct message is refused.
ALTER TABLE sessions ADD COLUMN origin text NOT NULL DEFAULT '';
