-- Outbox claims (core.OutboxStore): the worker sending a delivery holds it
-- under a claim token for a lease that it renews while it works, and only
-- the holder of the token may save the outcome. Columns with defaults
-- only: a delivery that no worker holds has neither.

-- The token of the claim holding a delivery, '' when none does.
ALTER TABLE outbox ADD COLUMN claim_token TEXT NOT NULL DEFAULT '';
-- The end of that claim's lease, 0 when none holds it.
ALTER TABLE outbox ADD COLUMN claim_until INTEGER NOT NULL DEFAULT 0;

-- A claim takes a delivery only when no earlier queued delivery with the
-- same ordering key (recipient and conversation) holds it back: this
-- finds those, among the queued deliveries alone.
CREATE INDEX outbox_queued_key ON outbox (to_channel, to_address, conversation_seq, id)
    WHERE status = 'queued';

-- Renewals, and the release of the claims a crashed run left, find a
-- claim's deliveries by its token; only claimed deliveries are indexed.
CREATE INDEX outbox_claim ON outbox (claim_token) WHERE claim_token <> '';
