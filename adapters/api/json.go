package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/assistbot/assistbot/core"
)

// maxBodyBytes caps an API request body. Real requests are a few hundred
// bytes; the cap keeps a client from making the server buffer megabytes.
const maxBodyBytes = 1 << 20

// sessionJSON is the API's session object.
type sessionJSON struct {
	ID             string        `json:"id"`
	ConversationID string        `json:"conversation_id"`
	State          core.State    `json:"state"`
	PIN            string        `json:"pin"`
	DesktopURL     string        `json:"desktop_url"`
	MobileURL      string        `json:"mobile_url"`
	ManualURL      string        `json:"manual_url"`
	ExpiresAt      time.Time     `json:"expires_at,omitzero"`
	Device         core.Device   `json:"device"`
	Mode           core.Mode     `json:"mode,omitempty"`
	Agent          string        `json:"agent,omitempty"`
	Technician     string        `json:"technician,omitempty"`
	Locale         string        `json:"locale"`
	Provider       string        `json:"provider"`
	Customer       *customerJSON `json:"customer,omitempty"`
	CreatedAt      time.Time     `json:"created_at,omitzero"`
	UpdatedAt      time.Time     `json:"updated_at,omitzero"`
	JoinedAt       time.Time     `json:"joined_at,omitzero"`
	StartedAt      time.Time     `json:"started_at,omitzero"`
	EndedAt        time.Time     `json:"ended_at,omitzero"`
	// TechnicianURL is the provider's link for the technician of an
	// active session (MeshCentral), in the start answer and the session's
	// GET only.
	TechnicianURL string `json:"technician_url,omitempty"`
}

// sessionListJSON is a page of sessions, with the cursor of the next
// page when one follows.
type sessionListJSON struct {
	Sessions   []sessionJSON `json:"sessions"`
	NextCursor string        `json:"next_cursor,omitempty"`
}

// customerJSON is whom a session is for, in requests and responses.
type customerJSON struct {
	Channel string `json:"channel"`
	Address string `json:"address"`
	Name    string `json:"name,omitempty"`
}

// conversationJSON is the API's conversation object.
type conversationJSON struct {
	ID        string                 `json:"id"`
	State     core.ConversationState `json:"state"`
	Customer  *customerJSON          `json:"customer,omitempty"`
	Locale    string                 `json:"locale"`
	CreatedAt time.Time              `json:"created_at,omitzero"`
	UpdatedAt time.Time              `json:"updated_at,omitzero"`
}

func toConversation(c *core.Conversation) conversationJSON {
	out := conversationJSON{ID: c.ID, State: c.State, Locale: c.Locale, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if !c.Customer.IsZero() || c.CustomerName != "" {
		out.Customer = &customerJSON{Channel: c.Customer.Channel, Address: c.Customer.Address, Name: c.CustomerName}
	}
	return out
}

// sessionDetailJSON is a session with its outbox entries.
type sessionDetailJSON struct {
	sessionJSON
	Deliveries []deliveryJSON `json:"deliveries"`
}

// sentJSON is a session with the delivery that Send queued.
type sentJSON struct {
	sessionJSON
	Delivery deliveryJSON `json:"delivery"`
}

type deliveryJSON struct {
	ID        int64               `json:"id"`
	Kind      core.NoticeKind     `json:"kind"`
	Channel   string              `json:"channel"`
	Status    core.DeliveryStatus `json:"status"`
	Reason    string              `json:"reason,omitempty"`
	Link      string              `json:"link,omitempty"`
	CreatedAt time.Time           `json:"created_at,omitzero"`
	UpdatedAt time.Time           `json:"updated_at,omitzero"`
}

type eventJSON struct {
	ID     int64       `json:"id"`
	At     time.Time   `json:"at"`
	Actor  string      `json:"actor"`
	Action core.Action `json:"action"`
	From   core.State  `json:"from,omitempty"`
	To     core.State  `json:"to"`
	Detail string      `json:"detail,omitempty"`
}

// The request bodies. Every field is optional at the JSON level; the
// engine says what an action needs.
type (
	createRequest struct {
		Customer       *customerJSON `json:"customer"`
		Agent          string        `json:"agent"`
		Locale         string        `json:"locale"`
		ConversationID string        `json:"conversation_id"`
	}
	actionRequest struct {
		Agent string `json:"agent"`
	}
	sendRequest struct {
		Link  core.LinkKind `json:"link"`
		Agent string        `json:"agent"`
	}
	startRequest struct {
		Mode       core.Mode `json:"mode"`
		Technician string    `json:"technician"`
	}
)

// toSession renders s; convs caches conversations across a list, which
// usually holds several sessions of one conversation.
func (a *API) toSession(ctx context.Context, sess *core.Session, convs map[string]*core.Conversation) (sessionJSON, error) {
	c, ok := convs[sess.ConversationID]
	if !ok {
		var err error
		if c, err = a.engine.Conversation(ctx, sess.ConversationID); err != nil {
			return sessionJSON{}, fmt.Errorf("session %s: %w", sess.ID, err)
		}
		convs[sess.ConversationID] = c
	}
	out := sessionJSON{
		ID: sess.ID, ConversationID: sess.ConversationID, State: sess.State, PIN: sess.PIN,
		DesktopURL: sess.DesktopURL, MobileURL: sess.MobileURL, ManualURL: sess.ManualURL,
		ExpiresAt: sess.PINExpiresAt, Device: sess.Device, Mode: sess.Mode,
		Agent: sess.Agent, Technician: sess.Technician, Locale: sess.Locale, Provider: sess.Provider,
		CreatedAt: sess.CreatedAt, UpdatedAt: sess.UpdatedAt,
		JoinedAt: sess.JoinedAt, StartedAt: sess.StartedAt, EndedAt: sess.EndedAt,
	}
	out.Customer = toConversation(c).Customer
	return out, nil
}

func toDelivery(d *core.Delivery) deliveryJSON {
	return deliveryJSON{
		ID: d.ID, Kind: d.Notice.Kind, Channel: d.To.Channel, Status: d.Status, Reason: d.Reason,
		Link: d.Notice.Link, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
}

func toEvent(e core.Event) eventJSON {
	return eventJSON{ID: e.ID, At: e.At, Actor: e.Actor, Action: e.Action, From: e.From, To: e.To, Detail: e.Detail}
}

// decodeBody decodes r's JSON body into dst. An empty body leaves dst
// as is, since every body field is optional. The errors are CodeInvalid
// with a message that names the problem, so a client can fix its request.
func decodeBody(w http.ResponseWriter, r *http.Request, dst any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return bodyError(err)
	}
	var extra json.RawMessage
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil && !isSyntaxError(err):
		return bodyError(err)
	}
	return core.Errorf(core.CodeInvalid, "unexpected data after the JSON object")
}

func isSyntaxError(err error) bool {
	var se *json.SyntaxError
	return errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF)
}

// bodyError explains a decoding failure.
func bodyError(err error) error {
	var (
		tooBig *http.MaxBytesError
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooBig):
		return core.Errorf(core.CodeInvalid, "request body is larger than 1 MiB")
	case errors.As(err, &syntax):
		return core.Errorf(core.CodeInvalid, "malformed JSON at byte %d: %s", syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return core.Errorf(core.CodeInvalid, "malformed JSON: the body ends in the middle of a value")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return core.Errorf(core.CodeInvalid, "the body must be a JSON object, not %s", typ.Value)
		}
		return core.Errorf(core.CodeInvalid, "field %q must be %s, not %s", typ.Field, kindName(typ.Type), typ.Value)
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return core.Errorf(core.CodeInvalid, "unknown field %s", f)
	}
	return core.Errorf(core.CodeInvalid, "malformed JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// kindName names a Go type the way a JSON client thinks of it.
func kindName(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a " + t.Kind().String()
}
