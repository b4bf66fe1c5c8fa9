package rawsql

import (
	"fmt"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// Row is the row a statement stands on while Each or First hands it
// over. Its Scan reads the columns straight from SQLite, so that the code
// that scans rows read through database/sql scans it too.
type Row struct{ s *Stmt }

// Scan stores the row's columns in dest, which hold *string, *int64,
// *int or *[]byte, each a copy. A NULL is stored as "" into a *string and
// as nil into a *[]byte.
func (r Row) Scan(dest ...any) error {
	tls, p := r.s.c.tls, r.s.p
	if len(dest) != r.s.nCols {
		return fmt.Errorf("scan: %d destinations for %d columns", len(dest), r.s.nCols)
	}
	for i, d := range dest {
		n := int32(i)
		typ := sqlite3.Xsqlite3_column_type(tls, p, n)
		switch d := d.(type) {
		case *string:
			switch typ {
			case sqlite3.SQLITE_TEXT:
				*d = string(libc.GoBytes(sqlite3.Xsqlite3_column_text(tls, p, n), int(sqlite3.Xsqlite3_column_bytes(tls, p, n))))
			case sqlite3.SQLITE_NULL:
				*d = ""
			default:
				return fmt.Errorf("scan: column %d is %s, not text", i, typeName(typ))
			}
		case *int64:
			if typ != sqlite3.SQLITE_INTEGER {
				return fmt.Errorf("scan: column %d is %s, not an integer", i, typeName(typ))
			}
			*d = sqlite3.Xsqlite3_column_int64(tls, p, n)
		case *int:
			if typ != sqlite3.SQLITE_INTEGER {
				return fmt.Errorf("scan: column %d is %s, not an integer", i, typeName(typ))
			}
			*d = int(sqlite3.Xsqlite3_column_int64(tls, p, n))
		case *[]byte:
			switch typ {
			case sqlite3.SQLITE_BLOB:
				b := libc.GoBytes(sqlite3.Xsqlite3_column_blob(tls, p, n), int(sqlite3.Xsqlite3_column_bytes(tls, p, n)))
				*d = append([]byte{}, b...)
			case sqlite3.SQLITE_NULL:
				*d = nil
			default:
				return fmt.Errorf("scan: column %d is %s, not a blob", i, typeName(typ))
			}
		default:
			return fmt.Errorf("scan: cannot store into %T", d)
		}
	}
	return nil
}

// typeName names an SQLite column type, for errors.
func typeName(typ int32) string {
	switch typ {
	case sqlite3.SQLITE_INTEGER:
		return "an integer"
	case sqlite3.SQLITE_FLOAT:
		return "a real"
	case sqlite3.SQLITE_TEXT:
		return "text"
	case sqlite3.SQLITE_BLOB:
		return "a blob"
	}
	return "NULL"
}
