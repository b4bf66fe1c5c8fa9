// Package migrations applies the PostgreSQL store's schema: numbered
// scripts, each run in a transaction of its own that records it in the
// schema's schema_migrations, under an advisory lock that lets replicas
// starting together apply each script once.
package migrations

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/assistbot/assistbot/internal/schema"
)

// createMigrationsSQL is the table recording the scripts applied, one row
// per version.
const createMigrationsSQL = `CREATE TABLE schema_migrations (
	version    integer     NOT NULL PRIMARY KEY,
	name       text        NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// lockMigrationsSQL serialises migrations of one schema across every
// process connected to the database, until the transaction ends. The key
// is derived from the schema's name, so that installations in different
// schemas of one database do not wait for each other.
const lockMigrationsSQL = `SELECT pg_advisory_xact_lock(hashtextextended('assistbot schema_migrations ' || $1, 0))`

// Apply applies the scripts of list (schema.Scripts) that the current schema of
// c's database lacks, each in a transaction of its own that also records
// it in schema_migrations, and returns the schema's name. Each
// transaction takes the advisory lock first and reads the version again
// under it, so replicas starting together apply every script once, and
// one that finds the work done goes on at once. A schema newer than the
// scripts is refused: the code they go with would misread it.
func Apply(ctx context.Context, c *pgxpool.Conn, list []schema.Script) (schema string, err error) {
	var current *string
	if err := c.QueryRow(ctx, "SELECT current_schema()").Scan(&current); err != nil {
		return "", fmt.Errorf("read the current schema: %w", err)
	}
	if current == nil {
		return "", errors.New("no schema of the search_path exists: create it, or set search_path in the DSN to one that does")
	}
	for {
		done, err := step(ctx, c, *current, list)
		if err != nil || done {
			return *current, err
		}
	}
}

// step applies the first script the schema lacks, under the lock, and
// reports whether there was none left.
func step(ctx context.Context, c *pgxpool.Conn, schema string, list []schema.Script) (done bool, err error) {
	tx, err := c.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer rollback(ctx, tx) // after Commit, a no-op
	if _, err := tx.Exec(ctx, lockMigrationsSQL, schema); err != nil {
		return false, fmt.Errorf("lock schema_migrations: %w", err)
	}
	current, err := schemaVersion(ctx, tx, schema)
	if err != nil {
		return false, err
	}
	switch latest := len(list); {
	case current > latest:
		return false, fmt.Errorf("database schema version %d is newer than this assistbot supports (%d)", current, latest)
	case current == latest:
		return true, tx.Commit(ctx)
	}
	m := list[current]
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
		return false, fmt.Errorf("migration %s: record: %w", m.Name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("migration %s: commit: %w", m.Name, err)
	}
	return false, nil
}

// schemaVersion returns the highest version recorded in schema's
// schema_migrations, creating the table in a new schema. It looks for the
// table before creating it, so that a role without CREATE on an
// up-to-date schema can start, and refuses a schema_migrations that
// another tool (Rails, golang-migrate) made, which its versions would
// only confuse.
func schemaVersion(ctx context.Context, tx pgx.Tx, schema string) (int, error) {
	var cols int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns
		WHERE table_schema = $1 AND table_name = 'schema_migrations'
		AND column_name IN ('version', 'name', 'applied_at')`, schema).Scan(&cols)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	switch cols {
	case 0:
		if _, err := tx.Exec(ctx, createMigrationsSQL); err != nil {
			return 0, fmt.Errorf("create schema_migrations: %w", err)
		}
		return 0, nil
	case 3:
	default:
		return 0, fmt.Errorf("the table %s.schema_migrations was not made by assistbot: give assistbot a schema of its own (search_path in the DSN)", schema)
	}
	var v int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// rollback ends tx, even when ctx is done, so that the connection can be
// reused, as the store's own transactions do. A rollback that cannot
// reach the server leaves the connection mid-transaction, and the pool
// closes it on release.
func rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	tx.Rollback(ctx)
}
