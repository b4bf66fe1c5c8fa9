package slackfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// socketPing is how often the fake pings a Socket Mode client; slack-go
// reconnects when Slack stays silent for 30 seconds.
const socketPing = 5 * time.Second

// serveSocket is the WebSocket that apps.connections.open points to. It
// greets the client with "hello", as Slack does, pings it, and records
// every acknowledgement as a "socket_ack" call.
func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	s.sockMu.Lock()
	first := s.sock == nil
	s.sock = conn
	err = conn.WriteJSON(map[string]any{"type": "hello", "num_connections": 1,
		"connection_info": map[string]any{"app_id": "A0FAKE"}, "debug_info": map[string]any{"host": "slackfake"}})
	s.sockMu.Unlock()
	if err != nil {
		return
	}
	if first {
		close(s.sockUp)
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(socketPing)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-s.stopped:
				return
			case <-t.C:
				s.sockMu.Lock()
				_ = conn.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second))
				s.sockMu.Unlock()
			}
		}
	}()
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		var m map[string]any
		if json.Unmarshal(data, &m) == nil {
			s.record(Call{Method: "socket_ack", JSON: m})
		}
	}
}

// WaitConnected waits for a Socket Mode client to connect.
func (s *Server) WaitConnected(t testing.TB, timeout time.Duration) {
	t.Helper()
	select {
	case <-s.sockUp:
	case <-time.After(timeout):
		t.Fatalf("slackfake: no Socket Mode client connected within %s", timeout)
	}
}

// Send sends a Socket Mode envelope ("slash_commands", "interactive",
// "events_api") carrying payload to the connected client and returns its
// envelope ID.
func (s *Server) Send(t testing.TB, typ string, payload any) string {
	t.Helper()
	s.mu.Lock()
	s.seq++
	id := fmt.Sprintf("env-%d", s.seq)
	s.mu.Unlock()
	raw, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]any{"envelope_id": id, "type": typ, "payload": json.RawMessage(raw),
		"accepts_response_payload": typ == "slash_commands", "retry_attempt": 0, "retry_reason": ""}
	s.sockMu.Lock()
	defer s.sockMu.Unlock()
	if s.sock == nil {
		t.Fatal("slackfake: no Socket Mode client is connected")
	}
	if err := s.sock.WriteJSON(env); err != nil {
		t.Fatalf("slackfake: send envelope: %v", err)
	}
	return id
}

// WaitAck waits for the client to acknowledge envelope id and returns the
// acknowledgement's payload (null when it carried none).
func (s *Server) WaitAck(t testing.TB, id string, timeout time.Duration) json.RawMessage {
	t.Helper()
	c := s.Wait(t, "socket_ack", timeout, func(c Call) bool { return c.JSON["envelope_id"] == id })
	raw, _ := json.Marshal(c.JSON["payload"])
	return raw
}
