-- What every replica needs of the store besides the domain (core's
-- KeyStore, SignInStore and MemoStore): the keys that sign cookies and
-- links, console sign-ins, and small values with an expiry, so that any
-- replica can serve any request. New tables only, which replicas still
-- running the previous version neither see nor need during a rolling
-- upgrade.

-- Secret keys, made at random on first use by whichever replica asks
-- first. previous_key is the key before the last rotation, which still
-- verifies; NULL before the first. Times are written for operators;
-- nothing reads them.
CREATE TABLE secret_keys (
    name         text        NOT NULL,
    current_key  bytea       NOT NULL,
    previous_key bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    rotated_at   timestamptz,
    CONSTRAINT secret_keys_pkey PRIMARY KEY (name)
);

-- Console sign-ins, by the SHA-256 of the browser's token: the console
-- looks one up on every request, on whichever replica it reaches.
CREATE TABLE sign_ins (
    token_hash text        NOT NULL,
    agent      text        NOT NULL,
    created_at timestamptz,
    expires_at timestamptz NOT NULL,
    CONSTRAINT sign_ins_pkey PRIMARY KEY (token_hash)
);

-- Pruning takes the expired sign-ins oldest first, a small batch at a
-- time.
CREATE INDEX sign_ins_expiry ON sign_ins (expires_at);

-- Small values under a key (name), until they expire: a Discord
-- interaction token that another replica may need to edit a card.
CREATE TABLE memos (
    name       text        NOT NULL,
    value      text        NOT NULL,
    expires_at timestamptz NOT NULL,
    CONSTRAINT memos_pkey PRIMARY KEY (name)
);

CREATE INDEX memos_expiry ON memos (expires_at);
