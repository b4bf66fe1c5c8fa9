package sqlite

import "embed"

// migrationFiles holds the schema, one numbered script per version:
// migrations/0001_init.sql, 0002_….sql. Open applies those the database
// lacks (rawsql.Migrate). A script, once released, is never edited; a
// change is a new script. Scripts run inside a transaction with foreign
// keys enforced, so one that rebuilds a table must keep the references
// valid at every step (PRAGMA foreign_keys cannot change in a
// transaction).
//
//go:embed migrations/*.sql
var migrationFiles embed.FS
