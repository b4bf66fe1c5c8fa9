package signaling

import (
	"strings"
	"testing"
)

// FuzzParseSignal feeds arbitrary bytes to the signaling parser: it never
// panics, and what it accepts is a message of a known type that the
// server relays as parsed — encoding it and parsing it again gives the
// same message, so nothing the sender added survives the relay.
func FuzzParseSignal(f *testing.F) {
	for _, seed := range []string{
		`{"type":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}`,
		`{"type":"candidate","candidate":"candidate:1 1 udp 1 192.0.2.7 5 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":null}`,
		`{"type":"candidate","candidate":"","sdpMid":null}`,
		`{"type":"share-started","source":"camera"}`, `{"type":"declined","reason":"denied"}`,
		`{"type":"ready"}`, `{"type":"bye"}`, `{"type":"answer","sdp":"v=0","x":1}`, `{"type":"offer"} {}`,
		`[]`, `null`, `{"type":1}`, `{"type":"candidate","candidate":"candidate:1","sdpMLineIndex":-1}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseSignal(b)
		if err != nil {
			if m != nil || !strings.HasPrefix(err.Error(), "malformed message: ") {
				t.Fatalf("parseSignal(%q) = %v, %v", b, m, err)
			}
			return
		}
		if _, ok := signalFields[m.Type]; !ok {
			t.Fatalf("accepted unknown type %q", m.Type)
		}
		again, err := parseSignal(m.encode())
		if err != nil {
			t.Fatalf("the relayed form of %q is refused: %v", b, err)
		}
		if string(again.encode()) != string(m.encode()) {
			t.Fatalf("relaying %q changes it: %s then %s", b, m.encode(), again.encode())
		}
	})
}

// BenchmarkParseSignal parses and re-encodes an ICE candidate, the most
// frequent signaling message.
func BenchmarkParseSignal(b *testing.B) {
	msg := []byte(`{"type":"candidate","candidate":"candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag sXP5 network-cost 999","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"sXP5"}`)
	b.ReportAllocs()
	for b.Loop() {
		m, err := parseSignal(msg)
		if err != nil {
			b.Fatal(err)
		}
		_ = m.encode()
	}
}
