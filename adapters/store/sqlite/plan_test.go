package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestQueriesUseIndexes asks SQLite how it runs every statement on a busy
// path: none may scan a whole table. A partial index is only used when the
// query repeats its condition, which is easy to forget; such a scan once
// cut session creation from tens of thousands a second to about a
// thousand once conversations piled up.
func TestQueriesUseIndexes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "plan.db")
	s, err := Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db := rawDB(t, p)
	for name, q := range map[string]string{
		"pin taken":                   pinTakenSQL,
		"open conversation taken":     openTakenSQL,
		"message source":              msgSourceSQL,
		"find open conversation":      findOpenConversationSQL,
		"find session by pin":         findSessionByPINSQL,
		"find conversation by thread": findConversationByThreadSQL,
		"find messages":               findMessagesSQL,
		"opted out":                   optedOutSQL,
		"delivery by external id":     findDeliveryByExternalIDSQL,
		"claim deliveries":            claimDeliveriesSQL,
		"find session":                findSessionSQL,
		"find events":                 findEventsSQL,
	} {
		args := make([]any, strings.Count(q, "?"))
		for i := range args {
			args[i] = ""
		}
		rows, err := db.Query("EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
			// "SCAN x" without an index is a full scan; "SCAN x USING
			// INDEX" and "SEARCH" are not.
			if strings.HasPrefix(detail, "SCAN ") && !strings.Contains(detail, "USING") {
				t.Errorf("%s scans a table: %s", name, detail)
			}
		}
		rows.Close()
		if len(plan) == 0 {
			t.Errorf("%s: no plan", name)
		}
	}
}
