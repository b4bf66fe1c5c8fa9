-- Outgoing webhooks (core/webhook): the endpoints, configured or created
-- through the API, and every attempt at delivering to them. The
-- deliveries themselves are outbox rows to channel 'webhook', whose
-- to_address is the endpoint's id.
CREATE TABLE webhook_endpoints (
    id              TEXT    NOT NULL PRIMARY KEY,
    url             TEXT    NOT NULL,
    -- '' for a configured endpoint: its secret stays in the file.
    secret          TEXT    NOT NULL,
    events          TEXT    NOT NULL, -- JSON array of types or patterns
    description     TEXT    NOT NULL,
    source          TEXT    NOT NULL, -- 'config' or 'api'
    disabled_at     INTEGER NOT NULL DEFAULT 0, -- 0 while enabled
    disabled_reason TEXT    NOT NULL DEFAULT '',
    failing_since   INTEGER NOT NULL DEFAULT 0, -- 0 when the last attempt succeeded
    last_success_at INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    version         INTEGER NOT NULL
) STRICT;

CREATE TABLE webhook_attempts (
    id              INTEGER NOT NULL PRIMARY KEY,
    delivery_id     INTEGER NOT NULL,
    endpoint_id     TEXT    NOT NULL,
    attempt         INTEGER NOT NULL,
    at              INTEGER NOT NULL,
    duration_us     INTEGER NOT NULL,
    response_status INTEGER NOT NULL, -- 0 when there was no answer
    error           TEXT    NOT NULL,
    outcome         TEXT    NOT NULL  -- delivered, retry or failed
) STRICT;

CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id);

-- An endpoint's claim reads its earliest queued deliveries; its listing
-- reads all of them, newest first.
CREATE INDEX outbox_webhook_queued ON outbox (to_address, id)
    WHERE to_channel = 'webhook' AND status = 'queued';
CREATE INDEX outbox_webhook ON outbox (to_address, id) WHERE to_channel = 'webhook';
