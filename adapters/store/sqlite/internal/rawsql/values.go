package rawsql

import (
	"database/sql/driver"
	"fmt"
)

// Values is a row as the driver hands it over. Its Scan lets the code
// that scans rows read through database/sql scan it too.
type Values []driver.Value

// Scan stores the row's values in dest, which hold *string, *int64 or
// *int. A NULL is stored as "" into a *string.
func (v Values) Scan(dest ...any) error {
	if len(dest) != len(v) {
		return fmt.Errorf("scan: %d destinations for %d columns", len(dest), len(v))
	}
	for i, d := range dest {
		switch d := d.(type) {
		case *string:
			s, ok := v[i].(string)
			if !ok && v[i] != nil {
				return fmt.Errorf("scan: column %d is %T, not text", i, v[i])
			}
			*d = s
		case *int64:
			n, ok := v[i].(int64)
			if !ok {
				return fmt.Errorf("scan: column %d is %T, not an integer", i, v[i])
			}
			*d = n
		case *int:
			n, ok := v[i].(int64)
			if !ok {
				return fmt.Errorf("scan: column %d is %T, not an integer", i, v[i])
			}
			*d = int(n)
		default:
			return fmt.Errorf("scan: cannot store into %T", d)
		}
	}
	return nil
}
