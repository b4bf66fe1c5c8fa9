package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/assistbot/assistbot/adapters/store/postgres/internal/migrations"
	"github.com/assistbot/assistbot/internal/schema"
)

// migrationFiles holds the schema, one numbered script per version:
// migrations/0001_init.sql, 0002_….sql. A script, once released, is never
// edited; a change is a new script. Each script runs in a transaction of
// its own, so it must not use statements that refuse one (CREATE INDEX
// CONCURRENTLY, ALTER TYPE … ADD VALUE before PostgreSQL 12).
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrate applies the scripts the database lacks (migrations.Apply), and
// records in s the schema the store's tables are in.
func migrate(ctx context.Context, s *Store) error {
	list, err := schema.Scripts(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("cannot connect: %w", err)
	}
	defer c.Release()
	s.schema, err = migrations.Apply(ctx, c, list)
	return err
}
