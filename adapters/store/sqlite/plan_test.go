package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/core"
)

// TestQueriesUseIndexes asks SQLite how it runs every statement on a busy
// path: none may scan a whole table. A partial index is only used when the
// query repeats its condition, which is easy to forget; such a scan once
// cut session creation from tens of thousands a second to about a
// thousand once conversations piled up. (An INSERT, even one with ON
// CONFLICT, has no plan: its conflict check is the primary key's.)
func TestQueriesUseIndexes(t *testing.T) {
	db := planDB(t)
	for name, q := range map[string]string{
		"pin taken":                   pinTakenSQL,
		"open conversation taken":     openTakenSQL,
		"message source":              msgSourceSQL,
		"find open conversation":      findOpenConversationSQL,
		"find session by pin":         findSessionByPINSQL,
		"find conversation by thread": findConversationByThreadSQL,
		"find messages":               findMessagesSQL,
		"find newest messages":        findNewestMessagesSQL,
		"opted out":                   optedOutSQL,
		"delivery by external id":     findDeliveryByExternalIDSQL,
		"claim deliveries":            claimDeliveriesSQL,
		"renew claim":                 renewClaimSQL,
		"release claims":              releaseClaimsSQL,
		"delivery state":              deliveryStateSQL,
		"find session":                findSessionSQL,
		"find events":                 findEventsSQL,
		"find key":                    findKeySQL,
		"find sign-in":                findSignInSQL,
		"end sign-in":                 endSignInSQL,
		"expire sign-ins":             expireSignInsSQL,
		"find memo":                   findMemoSQL,
		"expire memos":                expireMemosSQL,
		"prune sessions":              pruneSessionsSQL,
		"prune conversations":         pruneConversationsSQL,
	} {
		wantIndexed(t, db, name, q)
	}
}

// TestClaimQueriesUseIndexes asks again, for the statements that claim and
// renew deliveries, once the outbox holds a few thousand deliveries, most
// of them sent, and the planner has statistics: the claim must find the
// deliveries that hold others back through an index, not by reading the
// outbox once per delivery.
func TestClaimQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "plan.db")
	s, err := Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ch := newChange("424242")
	if err := s.CreateSession(ctx, ch); err != nil {
		t.Fatal(err)
	}
	now := core.SystemClock{}.Now()
	for batch := range 30 {
		var ds []*core.Delivery
		for i := range 100 {
			d := &core.Delivery{SessionID: ch.Session.ID, ConversationID: ch.Conversation.ID,
				To:     core.Endpoint{Channel: core.ChannelSMS, Address: fmt.Sprintf("+1555040%04d", i%40)},
				Notice: core.Notice{Kind: core.NoticeText, Text: "hello"}, Status: core.DeliverySent,
				NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
			if batch >= 27 { // the last 300 are still queued
				d.Status = core.DeliveryQueued
			}
			ds = append(ds, d)
		}
		if err := s.UpdateSession(ctx, &core.Change{Session: ch.Session, Deliveries: ds}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ClaimDeliveries(ctx, now, 32, time.Minute); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, p)
	if _, err := db.Exec("ANALYZE"); err != nil {
		t.Fatal(err)
	}
	wantIndexed(t, db, "claim deliveries", claimDeliveriesSQL)
	wantIndexed(t, db, "renew claim", renewClaimSQL)
	wantIndexed(t, db, "release claims", releaseClaimsSQL)
}

// wantIndexed fails t when SQLite's plan for q scans a whole table.
func wantIndexed(t *testing.T, db *sql.DB, name, q string) {
	t.Helper()
	args := make([]any, strings.Count(q, "?"))
	for i := range args {
		args[i] = ""
	}
	text := queryPlan(t, db, q, args...)
	plan := strings.Split(text, "\n")
	for _, detail := range plan {
		// "SCAN x" without an index is a full scan; "SCAN x USING
		// INDEX", "SEARCH" and a scan of a subquery's rows are not.
		if strings.HasPrefix(detail, "SCAN ") && !strings.Contains(detail, "USING") && !strings.HasPrefix(detail, "SCAN (subquery-") {
			t.Errorf("%s scans a table: %s", name, detail)
		}
	}
	if text == "" {
		t.Errorf("%s: no plan", name)
	}
	t.Logf("%s:\n\t%s", name, strings.Join(plan, "\n\t"))
}

// TestOpenConversationsReadOnlyOpenOnes: the console's list of open
// conversations once walked every closed conversation newer than the
// oldest open one (conversations_updated, which wantIndexed accepts):
// a page took a second with a million conversations. It must come out
// of the index of open conversations, in order.
func TestOpenConversationsReadOnlyOpenOnes(t *testing.T) {
	db := planDB(t)
	if text := queryPlan(t, db, findOpenConversationsSQL, "", 50); !strings.Contains(text, "conversations_open_updated") || strings.Contains(text, "TEMP B-TREE") {
		t.Errorf("the open conversations are not read in order from conversations_open_updated:\n%s", text)
	}
}

// queryPlan returns SQLite's plan for q, a line a step.
func queryPlan(t *testing.T, db *sql.DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return strings.Join(plan, "\n")
}

// planDB returns a connection of its own to a new store's database, with
// the schema migrated, for asking SQLite how it runs queries.
func planDB(t *testing.T) *sql.DB {
	t.Helper()
	p := filepath.Join(t.TempDir(), "plan.db")
	s, err := Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return rawDB(t, p)
}
