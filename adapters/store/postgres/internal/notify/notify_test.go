package notify

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/assistbot/assistbot/core"
)

// TestPayload checks the envelope without a server: an announcement too
// long for NOTIFY loses its event's detail, and nothing else, and one
// that stays too long is refused rather than sent to fail.
func TestPayload(t *testing.T) {
	r := Replica{ID: "r1", Schema: "assistbot"}
	a := core.Announcement{SessionID: "s1", Event: &core.Event{Action: core.ActionJoin, Detail: strings.Repeat("é", 4000)}}
	p, err := r.Payload(a)
	if err != nil {
		t.Fatal(err)
	}
	var e envelope
	if err := json.Unmarshal([]byte(p), &e); err != nil {
		t.Fatal(err)
	}
	if len(p) > maxPayload || e.Replica != "r1" || e.Schema != "assistbot" || e.Announcement.SessionID != "s1" ||
		e.Announcement.Event.Action != core.ActionJoin || e.Announcement.Event.Detail != "" {
		t.Errorf("payload of %d bytes: %s", len(p), p)
	}
	if a.Event.Detail == "" {
		t.Error("payload cleared the caller's event detail")
	}
	a.Closer = strings.Repeat("x", 8000)
	if _, err := r.Payload(a); core.ErrorCode(err) != core.CodeInvalid {
		t.Errorf("payload(8000-byte closer) = %v, want CodeInvalid", err)
	}
}
