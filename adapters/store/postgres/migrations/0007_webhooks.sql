-- Outgoing webhooks (core/webhook): the endpoints, configured or created
-- through the API, and every attempt at delivering to them. The
-- deliveries themselves are outbox rows to channel 'webhook', whose
-- to_address is the endpoint's id.
CREATE TABLE webhook_endpoints (
    id              text        NOT NULL PRIMARY KEY,
    url             text        NOT NULL,
    -- '' for a configured endpoint: its secret stays in the file.
    secret          text        NOT NULL,
    events          jsonb       NOT NULL, -- array of types or patterns
    description     text        NOT NULL,
    source          text        NOT NULL, -- 'config' or 'api'
    disabled_at     timestamptz,          -- NULL while enabled
    disabled_reason text        NOT NULL DEFAULT '',
    failing_since   timestamptz,          -- NULL when the last attempt succeeded
    last_success_at timestamptz,
    created_at      timestamptz,
    updated_at      timestamptz,
    version         integer     NOT NULL
);

CREATE TABLE webhook_attempts (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id     bigint      NOT NULL,
    endpoint_id     text        NOT NULL,
    attempt         integer     NOT NULL,
    at              timestamptz NOT NULL,
    duration_us     bigint      NOT NULL,
    response_status integer     NOT NULL, -- 0 when there was no answer
    error           text        NOT NULL,
    outcome         text        NOT NULL  -- delivered, retry or failed
);

CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id);

-- An endpoint's claim reads its earliest queued deliveries; its listing
-- reads all of them, newest first.
CREATE INDEX outbox_webhook_queued ON outbox (to_address, id)
    WHERE to_channel = 'webhook' AND status = 'queued';
CREATE INDEX outbox_webhook ON outbox (to_address, id) WHERE to_channel = 'webhook';
