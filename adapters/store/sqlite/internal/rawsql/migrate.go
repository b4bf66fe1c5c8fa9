package rawsql

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/assistbot/assistbot/internal/schema"
)

// Migrate applies the scripts in dir of fsys (schema.Scripts) that the
// database c is connected to lacks, all in one transaction, and records
// the version reached in PRAGMA user_version. The version is read again
// inside the transaction, which BEGIN IMMEDIATE makes exclusive of other
// writers, so two processes opening a new file at once migrate it once.
func Migrate(ctx context.Context, c *Conn, fsys fs.FS, dir string) error {
	list, err := schema.Scripts(fsys, dir)
	if err != nil {
		return err
	}
	latest := len(list)
	current, err := schemaVersion(ctx, c, latest)
	if err != nil || current == latest {
		return err
	}
	if err := c.Exec(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	err = func() error {
		current, err := schemaVersion(ctx, c, latest)
		if err != nil {
			return err
		}
		for _, m := range list[current:] {
			if err := c.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
		}
		// PRAGMA takes no parameters; latest is a number we computed.
		if err := c.Exec(ctx, fmt.Sprintf("PRAGMA user_version = %d", latest)); err != nil {
			return err
		}
		return c.Exec(ctx, "COMMIT")
	}()
	if err != nil {
		c.Exec(context.Background(), "ROLLBACK")
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// schemaVersion returns the database's user_version, refusing one newer
// than latest: this code would misread a schema it does not know.
func schemaVersion(ctx context.Context, c *Conn, latest int) (int, error) {
	v, err := c.QueryInt(ctx, "PRAGMA user_version")
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
