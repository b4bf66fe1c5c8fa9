package core

// State is where a remote-support session stands. See the table in doc.go.
type State string

// The seven session states.
const (
	StateIssued  State = "issued"
	StateSent    State = "sent"
	StateWaiting State = "waiting"
	StateActive  State = "active"
	StateEnded   State = "ended"
	StateClosed  State = "closed"
	StateExpired State = "expired"
)

// States lists every state in lifecycle order.
var States = []State{StateIssued, StateSent, StateWaiting, StateActive, StateEnded, StateClosed, StateExpired}

// Valid reports whether s is one of the seven states.
func (s State) Valid() bool {
	for _, v := range States {
		if s == v {
			return true
		}
	}
	return false
}

// PINLive reports whether a session in state s holds a PIN that a customer
// can still use: only before the customer joins.
func (s State) PINLive() bool { return s == StateIssued || s == StateSent }

// FinishedStates lists the states in which a session is over. An
// expired one can still be given a new PIN (ActionRegenerate).
var FinishedStates = []State{StateEnded, StateClosed, StateExpired}

// Open reports whether a session in state s can still change.
func (s State) Open() bool {
	return s == StateIssued || s == StateSent || s == StateWaiting || s == StateActive
}

// Action is something that happens to a session: the input of the state
// machine and the name of an entry in its event log.
type Action string

// The actions.
const (
	ActionIssue      Action = "issue"
	ActionRegenerate Action = "regenerate"
	ActionSend       Action = "send"
	ActionJoin       Action = "join"
	ActionStart      Action = "start"
	ActionEnd        Action = "end"
	ActionClose      Action = "close"
	ActionExpire     Action = "expire"
)

// Actions lists every action of the state machine.
var Actions = []Action{ActionIssue, ActionRegenerate, ActionSend, ActionJoin, ActionStart, ActionEnd, ActionClose, ActionExpire}

// Actions recorded in a session's log that change no state (see
// Engine.Record): what happened to the customer's screen or camera share.
const (
	ActionShareStart   Action = "share_start"
	ActionShareStop    Action = "share_stop"
	ActionShareDecline Action = "share_decline"
)

// Actions that change no state but who is involved: the customer moved
// the session to another device (Engine.Handoff); another technician took
// over watching it (Engine.Watch).
const (
	ActionDevice Action = "device"
	ActionWatch  Action = "watch"
)

// recordable lists the actions Engine.Record accepts.
var recordable = []Action{ActionShareStart, ActionShareStop, ActionShareDecline}

func (a Action) verb() string {
	switch a {
	case ActionIssue:
		return "issue a pin"
	case ActionRegenerate:
		return "generate another code"
	case ActionSend:
		return "send the link"
	case ActionJoin:
		return "join"
	case ActionStart:
		return "start the session"
	case ActionEnd:
		return "end the session"
	case ActionClose:
		return "close the session"
	case ActionExpire:
		return "expire the pin"
	case ActionShareStart, ActionShareStop, ActionShareDecline:
		return "record a screen share"
	case ActionDevice:
		return "move to another device"
	case ActionWatch:
		return "take over the session"
	case ActionHandoff:
		return "hand the session over"
	case ActionEscalate, ActionRemind:
		return "remind the desk"
	}
	return string(a)
}

// edge is one row of the state machine: the states an action may
// start from and the state it leads to. A new session has the empty state.
type edge struct {
	from []State
	to   State
}

// transitions is the whole state machine. Regenerate is also allowed from
// expired: "generate another code" on a card whose PIN ran out is what an
// agent reaches for, and it yields a fresh PIN exactly as from issued.
var transitions = map[Action]edge{
	ActionIssue:      {from: []State{""}, to: StateIssued},
	ActionRegenerate: {from: []State{StateIssued, StateSent, StateExpired}, to: StateIssued},
	ActionSend:       {from: []State{StateIssued, StateSent}, to: StateSent},
	ActionJoin:       {from: []State{StateIssued, StateSent}, to: StateWaiting},
	ActionStart:      {from: []State{StateWaiting}, to: StateActive},
	ActionEnd:        {from: []State{StateWaiting, StateActive}, to: StateEnded},
	ActionClose:      {from: []State{StateIssued, StateSent, StateWaiting}, to: StateClosed},
	ActionExpire:     {from: []State{StateIssued, StateSent}, to: StateExpired},
}

// Next returns the state that action a leads to from state s, or a
// *TransitionError when the state machine does not allow it.
func Next(s State, a Action) (State, error) {
	t, ok := transitions[a]
	if !ok {
		return s, &TransitionError{From: s, Action: a}
	}
	for _, f := range t.from {
		if f == s {
			return t.to, nil
		}
	}
	return s, &TransitionError{From: s, Action: a}
}
