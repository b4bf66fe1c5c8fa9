package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrationFiles holds the schema, one numbered script per version:
// 0001_init.sql, 0002_….sql. A script, once released, is never edited; a
// change is a new script. Each script runs in a transaction of its own,
// so it must not use statements that refuse one (CREATE INDEX
// CONCURRENTLY, ALTER TYPE … ADD VALUE before PostgreSQL 12).
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one script of migrationFiles.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the scripts in order, checking that their numbers run
// from 1 without a gap.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var list []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: name must start with its number, as 0001_init.sql", e.Name())
		}
		b, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		list = append(list, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(list, func(a, b migration) int { return a.version - b.version })
	for i, m := range list {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.name, i+1)
		}
	}
	return list, nil
}

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

// migrate applies the scripts the database lacks, each in a transaction
// of its own that also records it in schema_migrations. Each transaction
// takes the advisory lock first and reads the version again under it, so
// replicas starting together apply every script once, and one that finds
// the work done goes on at once. A schema newer than this code's scripts
// is refused: this code would misread it.
func migrate(ctx context.Context, s *Store) error {
	list, err := migrations()
	if err != nil {
		return err
	}
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("cannot connect: %w", err)
	}
	defer c.Release()
	var schema *string
	if err := c.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return fmt.Errorf("read the current schema: %w", err)
	}
	if schema == nil {
		return errors.New("no schema of the search_path exists: create it, or set search_path in the DSN to one that does")
	}
	s.schema = *schema
	for {
		done, err := migrateStep(ctx, c, *schema, list)
		if err != nil || done {
			return err
		}
	}
}

// migrateStep applies the first script the schema lacks, under the lock,
// and reports whether there was none left.
func migrateStep(ctx context.Context, c *pgxpool.Conn, schema string, list []migration) (done bool, err error) {
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
	if _, err := tx.Exec(ctx, m.sql); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.name, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
		return false, fmt.Errorf("migration %s: record: %w", m.name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("migration %s: commit: %w", m.name, err)
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
