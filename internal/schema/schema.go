// Package schema reads a store's schema migrations: numbered SQL scripts
// embedded in the binary. Each store applies them its own way.
package schema

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Script is one migration: the changes from the version before it to
// Version.
type Script struct {
	Version int    // the version the script brings the schema to
	Name    string // the file's name, 0001_init.sql
	SQL     string // the script
}

// Scripts returns the scripts in dir of fsys in order, checking that
// their names start with numbers that run from 1 without a gap.
func Scripts(fsys fs.FS, dir string) ([]Script, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var list []Script
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: name must start with its number, as 0001_init.sql", e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		list = append(list, Script{Version: v, Name: e.Name(), SQL: string(b)})
	}
	slices.SortFunc(list, func(a, b Script) int { return a.Version - b.Version })
	for i, m := range list {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.Name, i+1)
		}
	}
	return list, nil
}
