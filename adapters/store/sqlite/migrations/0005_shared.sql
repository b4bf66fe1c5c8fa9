-- What every replica needs of the store besides the domain (core's
-- KeyStore, SignInStore and MemoStore): the keys that sign cookies and
-- links, console sign-ins, and small values with an expiry. New tables
-- only: nothing that a previous version reads changes.

-- Secret keys, made at random on first use. previous_key is the key
-- before the last rotation, which still verifies; NULL before the first.
-- Times are written for operators; nothing reads them.
CREATE TABLE secret_keys (
    name         TEXT    NOT NULL PRIMARY KEY,
    current_key  BLOB    NOT NULL,
    previous_key BLOB,
    created_at   INTEGER NOT NULL,
    rotated_at   INTEGER NOT NULL -- 0 before the first rotation
) STRICT, WITHOUT ROWID;

-- Console sign-ins, by the SHA-256 of the browser's token: the console
-- looks one up on every request.
CREATE TABLE sign_ins (
    token_hash TEXT    NOT NULL PRIMARY KEY,
    agent      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Pruning takes the expired sign-ins oldest first, a small batch at a
-- time.
CREATE INDEX sign_ins_expiry ON sign_ins (expires_at);

-- Small values under a key (name), until they expire: a Discord
-- interaction token, say.
CREATE TABLE memos (
    name       TEXT    NOT NULL PRIMARY KEY,
    value      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX memos_expiry ON memos (expires_at);
