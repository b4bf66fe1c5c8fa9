package sqlite

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// migrationFiles holds the schema, one numbered script per version:
// 0001_init.sql, 0002_….sql. A script, once released, is never edited; a
// change is a new script. Scripts run inside a transaction with foreign
// keys enforced, so one that rebuilds a table must keep the references
// valid at every step (PRAGMA foreign_keys cannot change in a
// transaction).
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

// migrate applies the scripts the database lacks, all in one transaction,
// and records the version reached in PRAGMA user_version. The version is
// read again inside the transaction, which BEGIN IMMEDIATE makes exclusive
// of other writers, so two processes opening a new file at once migrate it
// once.
func migrate(ctx context.Context, c *wconn) error {
	list, err := migrations()
	if err != nil {
		return err
	}
	latest := len(list)
	current, err := schemaVersion(ctx, c, latest)
	if err != nil || current == latest {
		return err
	}
	if err := c.execSQL(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	err = func() error {
		current, err := schemaVersion(ctx, c, latest)
		if err != nil {
			return err
		}
		for _, m := range list[current:] {
			if err := c.execSQL(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
		}
		// PRAGMA takes no parameters; latest is a number we computed.
		if err := c.execSQL(ctx, fmt.Sprintf("PRAGMA user_version = %d", latest)); err != nil {
			return err
		}
		return c.execSQL(ctx, "COMMIT")
	}()
	if err != nil {
		c.execSQL(context.Background(), "ROLLBACK")
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// schemaVersion returns the database's user_version, refusing one newer
// than latest: this code would misread a schema it does not know.
func schemaVersion(ctx context.Context, c *wconn, latest int) (int, error) {
	v, err := c.queryInt(ctx, "PRAGMA user_version")
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if v > int64(latest) {
		return 0, fmt.Errorf("database schema version %d is newer than this assistbot supports (%d)", v, latest)
	}
	if v < 0 {
		return 0, fmt.Errorf("database schema version %d is not valid", v)
	}
	return int(v), nil
}
