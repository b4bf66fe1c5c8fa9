package webhook

import (
	"slices"
	"testing"

	"github.com/assistbot/assistbot/core"
)

// TestEveryActionHasAType: each action a session's log records has an
// event type of its own that an endpoint may ask for by name.
func TestEveryActionHasAType(t *testing.T) {
	types := Types()
	for _, a := range append(append([]core.Action{}, core.Actions...), core.ActionShareStart, core.ActionShareStop,
		core.ActionShareDecline, core.ActionDevice, core.ActionWatch, core.ActionEscalate, core.ActionRemind, core.ActionHandoff) {
		typ := SessionType(a)
		if _, named := sessionTypes[a]; !named || !slices.Contains(types, typ) {
			t.Errorf("action %s: type %q, named %v, listed %v", a, typ, named, slices.Contains(types, typ))
		}
	}
}
