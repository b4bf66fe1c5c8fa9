package signaling

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Limits of a signaling message. An SDP offer for one video track is a
// few kilobytes; 64 KiB leaves room for many codecs and candidates while
// keeping a misbehaving page from filling the server's memory.
const (
	maxSignalBytes     = 64 << 10
	maxSDPBytes        = 60 << 10
	maxCandidateBytes  = 1 << 10
	maxSDPMidBytes     = 64
	maxUfragBytes      = 256
	maxSDPMLineIndex   = 64
	signalTypeOffer    = "offer"
	signalTypeAnswer   = "answer"
	signalTypeCand     = "candidate"
	signalTypeReady    = "ready"
	signalTypeStarted  = "share-started"
	signalTypeStopped  = "share-stopped"
	signalTypeDeclined = "declined"
	signalTypeBye      = "bye"
	// Messages only the server sends.
	signalTypeWelcome = "welcome"
	signalTypePeer    = "peer"
)

// role is a side of a screen-sharing room.
type role string

// The two roles: the customer shares, the technician watches.
const (
	roleCustomer   role = "customer"
	roleTechnician role = "technician"
)

// other returns the role on the other side of the room.
func (r role) other() role {
	if r == roleCustomer {
		return roleTechnician
	}
	return roleCustomer
}

// signal is one signaling message: what the pages send each other (an
// SDP offer or answer, an ICE candidate, the share's control messages)
// and what the server tells them (welcome, peer). The field names are
// those of RTCSessionDescription and RTCIceCandidate's toJSON, so that
// the pages can pass them straight through.
type signal struct {
	Type string `json:"type"`
	SDP  string `json:"sdp,omitempty"`
	// Candidate is empty for the end of candidates, absent otherwise.
	Candidate        *string `json:"candidate,omitempty"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *int    `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
	// Source is what a share-started shares: screen or camera.
	Source string `json:"source,omitempty"`
	// Reason says why a share was declined (declined, denied,
	// unavailable) or, from the server, why a room said bye (ended,
	// replaced, shutdown).
	Reason string `json:"reason,omitempty"`

	// Server only: Role and State describe the other side in a peer
	// message (joined, back, away, gone); Peer and Sharing tell a page
	// what it joined in a welcome.
	Role    role   `json:"role,omitempty"`
	State   string `json:"state,omitempty"`
	Peer    *bool  `json:"peer,omitempty"`
	Sharing string `json:"sharing,omitempty"`
}

// signalFields lists, per message type a page may send, the fields
// besides type it may carry.
var signalFields = map[string][]string{
	signalTypeOffer:    {"sdp"},
	signalTypeAnswer:   {"sdp"},
	signalTypeCand:     {"candidate", "sdpMid", "sdpMLineIndex", "usernameFragment"},
	signalTypeReady:    nil,
	signalTypeStarted:  {"source"},
	signalTypeStopped:  nil,
	signalTypeDeclined: {"reason"},
	signalTypeBye:      nil,
}

// allowedFrom says which role may send which message: the customer
// offers its media, the technician answers and asks for an offer.
func allowedFrom(r role, typ string) bool {
	switch typ {
	case signalTypeCand, signalTypeBye:
		return true
	case signalTypeOffer, signalTypeStarted, signalTypeStopped, signalTypeDeclined:
		return r == roleCustomer
	case signalTypeAnswer, signalTypeReady:
		return r == roleTechnician
	}
	return false
}

// errSignal prefixes every reason a message is refused.
var errSignal = errors.New("malformed message")

// parseSignal reads one message a page sent, checking it by hand against
// the schema above: a JSON object with a known type, only that type's
// fields, each of the right type and size. The error says what is wrong
// in a few words, short enough for a WebSocket close reason.
func parseSignal(b []byte) (*signal, error) {
	if len(b) > maxSignalBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", errSignal, maxSignalBytes)
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return nil, fmt.Errorf("%w: not a JSON object", errSignal)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the object", errSignal)
	}
	var m signal
	if err := signalString(raw, "type", &m.Type); err != nil {
		return nil, err
	}
	allowed, known := signalFields[m.Type]
	if !known {
		return nil, fmt.Errorf("%w: unknown type", errSignal)
	}
	for k := range raw {
		if k != "type" && !slices.Contains(allowed, k) {
			return nil, fmt.Errorf("%w: field %q is not allowed in %s", errSignal, k, m.Type)
		}
	}
	switch m.Type {
	case signalTypeOffer, signalTypeAnswer:
		if err := signalString(raw, "sdp", &m.SDP); err != nil {
			return nil, err
		}
		if len(m.SDP) > maxSDPBytes || !strings.HasPrefix(m.SDP, "v=0") || strings.ContainsRune(m.SDP, 0) {
			return nil, fmt.Errorf("%w: sdp is not a session description", errSignal)
		}
	case signalTypeCand:
		return parseCandidate(raw, &m)
	case signalTypeStarted:
		if err := signalString(raw, "source", &m.Source); err != nil {
			return nil, err
		}
		if m.Source != "screen" && m.Source != "camera" {
			return nil, fmt.Errorf("%w: source must be screen or camera", errSignal)
		}
	case signalTypeDeclined:
		if err := signalString(raw, "reason", &m.Reason); err != nil {
			return nil, err
		}
		if m.Reason != "declined" && m.Reason != "denied" && m.Reason != "unavailable" {
			return nil, fmt.Errorf("%w: reason must be declined, denied or unavailable", errSignal)
		}
	}
	return &m, nil
}

// parseCandidate reads an ICE candidate: candidate is required (empty
// for the end of candidates), and a candidate needs sdpMid or
// sdpMLineIndex to say which media it belongs to.
func parseCandidate(raw map[string]json.RawMessage, m *signal) (*signal, error) {
	var c string
	if err := signalString(raw, "candidate", &c); err != nil {
		return nil, err
	}
	if len(c) > maxCandidateBytes || (c != "" && !strings.HasPrefix(c, "candidate:")) || strings.ContainsAny(c, "\x00\r\n") {
		return nil, fmt.Errorf("%w: candidate is not an ICE candidate", errSignal)
	}
	m.Candidate = &c
	for _, f := range []struct {
		name string
		max  int
		dst  **string
	}{{"sdpMid", maxSDPMidBytes, &m.SDPMid}, {"usernameFragment", maxUfragBytes, &m.UsernameFragment}} {
		v, ok := raw[f.name]
		if !ok || string(v) == "null" {
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil || len(s) > f.max {
			return nil, fmt.Errorf("%w: %s must be a short string", errSignal, f.name)
		}
		*f.dst = &s
	}
	if v, ok := raw["sdpMLineIndex"]; ok && string(v) != "null" {
		var n int
		if err := json.Unmarshal(v, &n); err != nil || n < 0 || n > maxSDPMLineIndex {
			return nil, fmt.Errorf("%w: sdpMLineIndex must be a small number", errSignal)
		}
		m.SDPMLineIndex = &n
	}
	if c != "" && m.SDPMid == nil && m.SDPMLineIndex == nil {
		return nil, fmt.Errorf("%w: candidate needs sdpMid or sdpMLineIndex", errSignal)
	}
	return m, nil
}

// signalString reads the required string field name of raw into dst.
func signalString(raw map[string]json.RawMessage, name string, dst *string) error {
	v, ok := raw[name]
	if !ok {
		return fmt.Errorf("%w: %s is missing", errSignal, name)
	}
	if err := json.Unmarshal(v, dst); err != nil || string(v) == "null" {
		return fmt.Errorf("%w: %s must be a string", errSignal, name)
	}
	return nil
}

// encode renders m for a page. A signal always encodes.
func (m *signal) encode() []byte {
	b, _ := json.Marshal(m)
	return b
}
