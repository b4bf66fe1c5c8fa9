package core

import (
	"errors"
	"testing"
)

// TestNext covers every (state, action) pair: the allowed ones lead where
// the design table says, and every other one is refused.
func TestNext(t *testing.T) {
	const no = State("refused")
	// want[from][action]; written out by hand from the design's table,
	// not derived from the code under test.
	want := map[State]map[Action]State{
		"": {
			ActionIssue: StateIssued, ActionRegenerate: no, ActionSend: no, ActionJoin: no,
			ActionStart: no, ActionEnd: no, ActionClose: no, ActionExpire: no,
		},
		StateIssued: {
			ActionIssue: no, ActionRegenerate: StateIssued, ActionSend: StateSent, ActionJoin: StateWaiting,
			ActionStart: no, ActionEnd: no, ActionClose: StateClosed, ActionExpire: StateExpired,
		},
		StateSent: {
			ActionIssue: no, ActionRegenerate: StateIssued, ActionSend: StateSent, ActionJoin: StateWaiting,
			ActionStart: no, ActionEnd: no, ActionClose: StateClosed, ActionExpire: StateExpired,
		},
		StateWaiting: {
			ActionIssue: no, ActionRegenerate: no, ActionSend: no, ActionJoin: no,
			ActionStart: StateActive, ActionEnd: StateEnded, ActionClose: StateClosed, ActionExpire: no,
		},
		StateActive: {
			ActionIssue: no, ActionRegenerate: no, ActionSend: no, ActionJoin: no,
			ActionStart: no, ActionEnd: StateEnded, ActionClose: no, ActionExpire: no,
		},
		StateEnded: {
			ActionIssue: no, ActionRegenerate: no, ActionSend: no, ActionJoin: no,
			ActionStart: no, ActionEnd: no, ActionClose: no, ActionExpire: no,
		},
		StateClosed: {
			ActionIssue: no, ActionRegenerate: no, ActionSend: no, ActionJoin: no,
			ActionStart: no, ActionEnd: no, ActionClose: no, ActionExpire: no,
		},
		StateExpired: {
			ActionIssue: no, ActionRegenerate: StateIssued, ActionSend: no, ActionJoin: no,
			ActionStart: no, ActionEnd: no, ActionClose: no, ActionExpire: no,
		},
	}
	if len(want) != len(States)+1 {
		t.Fatalf("table covers %d states, want %d", len(want), len(States)+1)
	}
	for from, row := range want {
		if len(row) != len(Actions) {
			t.Fatalf("row %q covers %d actions, want %d", from, len(row), len(Actions))
		}
		for a, to := range row {
			name := string(from) + " " + string(a)
			if from == "" {
				name = "new " + string(a)
			}
			t.Run(name, func(t *testing.T) {
				got, err := Next(from, a)
				if to == no {
					var te *TransitionError
					if !errors.As(err, &te) || te.From != from || te.Action != a {
						t.Fatalf("Next = %q, %v; want a TransitionError", got, err)
					}
					if ErrorCode(err) != CodeInvalidTransition {
						t.Errorf("code = %q", ErrorCode(err))
					}
					if got != from {
						t.Errorf("refused Next returned %q, want the unchanged %q", got, from)
					}
					return
				}
				if err != nil || got != to {
					t.Fatalf("Next = %q, %v; want %q", got, err, to)
				}
			})
		}
	}
}

func TestNextUnknownAction(t *testing.T) {
	if _, err := Next(StateIssued, Action("teleport")); ErrorCode(err) != CodeInvalidTransition {
		t.Errorf("unknown action: err = %v", err)
	}
}

func TestTransitionErrorNamesState(t *testing.T) {
	_, err := Next(StateEnded, ActionSend)
	if got, want := ErrorMessage(err), "cannot send the link: the session is ended"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}

func TestStatePredicates(t *testing.T) {
	for _, s := range States {
		live := s == StateIssued || s == StateSent
		open := live || s == StateWaiting || s == StateActive
		if s.PINLive() != live {
			t.Errorf("%s.PINLive() = %v", s, s.PINLive())
		}
		if s.Open() != open {
			t.Errorf("%s.Open() = %v", s, s.Open())
		}
		if !s.Valid() {
			t.Errorf("%s.Valid() = false", s)
		}
	}
	if State("paused").Valid() {
		t.Error(`"paused" is valid`)
	}
}
