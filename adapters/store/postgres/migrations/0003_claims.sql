-- Outbox claims (core.OutboxStore): the worker sending a delivery holds it
-- under a claim token for a lease that it renews while it works, and only
-- the holder of the token may save the outcome. Columns with defaults
-- only, which PostgreSQL adds without rewriting the table, and which
-- replicas still running the previous version neither read nor need.

-- The token of the claim holding a delivery, '' when none does.
ALTER TABLE outbox ADD COLUMN claim_token text NOT NULL DEFAULT '';
-- The end of that claim's lease, NULL when none holds it.
ALTER TABLE outbox ADD COLUMN claim_until timestamptz;

-- A claim takes a delivery only when no earlier queued delivery with the
-- same ordering key (recipient and conversation) holds it back: this
-- finds those, among the queued deliveries alone. coalesce, because a
-- delivery about no conversation has NULL, which = never matches.
CREATE INDEX outbox_queued_key
    ON outbox (to_channel, to_address, (coalesce(conversation_id, '')), id)
    WHERE status = 'queued';

-- Renewals find a claim's deliveries by its token; only claimed
-- deliveries are indexed.
CREATE INDEX outbox_claim ON outbox (claim_token) WHERE claim_token <> '';
