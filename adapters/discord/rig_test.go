package discord

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"

	"github.com/assistbot/assistbot/adapters/discord/discordtest"
	"github.com/assistbot/assistbot/bots/i18n"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest"
	"github.com/assistbot/assistbot/core/outbox"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Identities of the test guild.
const (
	appID    = "100000000000000001"
	guildID  = "200000000000000002"
	deskID   = "300000000000000003"
	roleID   = "400000000000000004"
	aliceID  = "500000000000000005" // an agent
	patID    = "700000000000000007" // a customer
	supportC = "600000000000000006" // the channel where agents meet customers
	token    = "bot-token"
)

// seed makes the test key pair deterministic.
var seed = bytes.Repeat([]byte{7}, ed25519.SeedSize)

// rig is an Adapter wired to an engine with a memory store and to a fake
// Discord, with a fixed clock.
type rig struct {
	t        testing.TB
	a        *Adapter
	fake     *discordtest.Fake
	engine   *core.Engine
	store    core.Store
	clock    *coretest.Clock
	provider *coretest.Provider
	priv     ed25519.PrivateKey
	logs     *coretest.Buffer
	seq      int
	opts     Options
}

func newRig(t testing.TB, edit ...func(*Options)) *rig {
	t.Helper()
	cat, err := i18n.New("en")
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, clock: coretest.NewClock(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)),
		provider: &coretest.Provider{Pins: coretest.NewPINs("012345", "123456", "234567", "345678")},
		priv:     ed25519.NewKeyFromSeed(seed), logs: &coretest.Buffer{}}
	r.fake = discordtest.New(t, token)
	r.store = coretest.NewMemStore()
	r.engine = core.NewEngine(core.Options{Courier: outbox.New(outbox.Options{}), Store: r.store, Provider: r.provider, Clock: r.clock})
	o := Options{
		Token: token, ApplicationID: appID, PublicKey: hex.EncodeToString(r.priv.Public().(ed25519.PublicKey)),
		GuildID: guildID, DeskChannel: deskID, AgentRoles: []string{roleID}, APIURL: r.fake.APIURL(),
		Engine: r.engine, Bot: remote.New(r.engine, cat), Now: r.clock.Now, DeferAfter: 10 * time.Second,
		Logger: slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, e := range edit {
		e(&o)
	}
	r.opts = o
	if r.a, err = New(o); err != nil {
		t.Fatal(err)
	}
	if err := r.engine.AddChannel(r.a.Channels()[0]); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.a.work.Wait)
	return r
}

// replica returns another adapter on the same engine and fake Discord
// with nothing in memory, as another replica or this one after a
// restart; the outbox delivers through it from then on.
func (r *rig) replica() *Adapter {
	r.t.Helper()
	b, err := New(r.opts)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.engine.AddChannel(b.Channels()[0]); err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(b.work.Wait)
	return b
}

// run runs the engine (the outbox) and the Run of adapter a (r.a when
// none is given) until the test ends.
func (r *rig) run(a ...*Adapter) {
	ad := r.a
	if len(a) > 0 {
		ad = a[0]
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.engine.Run(ctx) })
	wg.Go(func() { ad.Run(ctx) })
	r.t.Cleanup(func() { cancel(); wg.Wait() })
	// An update published before the adapter subscribed would be missed.
	select {
	case <-ad.watching:
	case <-time.After(10 * time.Second):
		r.t.Fatal("the adapter did not start following the engine's updates")
	}
}

// postTo sends body to adapter a's interactions endpoint, signed now.
func (r *rig) postTo(a *Adapter, body []byte) *httptest.ResponseRecorder {
	ts := itoa(r.clock.Now().Unix())
	w := httptest.NewRecorder()
	a.serveInteraction(w, signedRequest(body, ts, ed25519.Sign(r.priv, append([]byte(ts), body...))))
	return w
}

// post sends body to the interactions endpoint, signed now.
func (r *rig) post(body []byte) *httptest.ResponseRecorder {
	return r.postSigned(body, r.clock.Now(), r.priv)
}

// postSigned signs body as Discord does: Ed25519 over the timestamp
// followed by the body, hex in X-Signature-Ed25519.
func (r *rig) postSigned(body []byte, at time.Time, key ed25519.PrivateKey) *httptest.ResponseRecorder {
	ts := itoa(at.Unix())
	w := httptest.NewRecorder()
	r.a.serveInteraction(w, signedRequest(body, ts, ed25519.Sign(key, append([]byte(ts), body...))))
	return w
}

// signedRequest is an interaction request with the given signature.
func signedRequest(body []byte, ts string, sig []byte) *http.Request {
	req := httptest.NewRequest("POST", "/discord/interactions", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature-Timestamp", ts)
	req.Header.Set("X-Signature-Ed25519", hex.EncodeToString(sig))
	return req
}

func httpBody(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// interaction is the JSON of an interaction as Discord sends it.
type interaction map[string]any

// base returns an interaction of typ by member (a guild member with
// roles), in channel.
func (r *rig) base(typ int, member map[string]any, channel string) interaction {
	r.seq++
	i := interaction{"id": fmt.Sprintf("9%017d", r.seq), "application_id": appID, "type": typ, "token": fmt.Sprintf("itoken%d", r.seq),
		"version": 1, "channel_id": channel, "locale": "en-US"}
	if member != nil {
		i["guild_id"] = guildID
		i["member"] = member
	}
	return i
}

// agent is alice, holding the agent role.
func agent() map[string]any {
	return map[string]any{"user": map[string]any{"id": aliceID, "username": "alice", "global_name": "Alice"}, "roles": []string{roleID}, "nick": nil}
}

// stranger is a member without the agent role.
func stranger() map[string]any {
	return map[string]any{"user": map[string]any{"id": "800000000000000008", "username": "mallory"}, "roles": []string{"999"}}
}

// remoteCommand returns /remote with options by member in channel.
func (r *rig) remoteCommand(member map[string]any, channel string, options ...map[string]any) interaction {
	i := r.base(2, member, channel)
	data := map[string]any{"id": "110000000000000011", "name": "remote", "type": 1, "options": options}
	for _, o := range options {
		if o["name"] == "customer" {
			data["resolved"] = map[string]any{
				"users":   map[string]any{patID: map[string]any{"id": patID, "username": "pat", "global_name": "Pat"}},
				"members": map[string]any{patID: map[string]any{"roles": []string{}}},
			}
		}
	}
	i["data"] = data
	return i
}

func customerOption(id string) map[string]any {
	return map[string]any{"name": "customer", "type": 6, "value": id}
}

// click returns a button press on a message with flags in channel.
func (r *rig) click(member map[string]any, channel, customID string, messageID string, flags int) interaction {
	i := r.base(3, member, channel)
	i["data"] = map[string]any{"custom_id": customID, "component_type": 2}
	i["message"] = map[string]any{"id": messageID, "channel_id": channel, "flags": flags, "content": ""}
	return i
}

func (i interaction) json() []byte {
	b, err := json.Marshal(i)
	if err != nil {
		panic(err)
	}
	return b
}

// decode reads an interaction as discordgo does, for the gateway path.
func (i interaction) decode(t *testing.T) *discordgo.Interaction {
	t.Helper()
	var out discordgo.Interaction
	if err := json.Unmarshal(i.json(), &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

// response decodes an interaction response.
type response struct {
	Type int `json:"type"`
	Data struct {
		Content    string          `json:"content"`
		Flags      int             `json:"flags"`
		Embeds     []embed         `json:"embeds"`
		Components json.RawMessage `json:"components"`
	} `json:"data"`
}

type embed struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Fields      []struct {
		Name, Value string
	} `json:"fields"`
}

func (r *rig) decodeResponse(w *httptest.ResponseRecorder) response {
	r.t.Helper()
	if w.Code != http.StatusOK {
		r.t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var resp response
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		r.t.Fatalf("response %s: %v", w.Body, err)
	}
	return resp
}

// customIDs lists the custom_ids of the buttons in components JSON.
func customIDs(raw json.RawMessage) []string {
	var rows []struct {
		Components []struct {
			CustomID string `json:"custom_id"`
		} `json:"components"`
	}
	json.Unmarshal(raw, &rows)
	var out []string
	for _, row := range rows {
		for _, c := range row.Components {
			out = append(out, c.CustomID)
		}
	}
	return out
}

// sessions returns the sessions the engine holds, newest first.
func (r *rig) sessions() []*core.Session {
	r.t.Helper()
	s, err := r.engine.Sessions(context.Background(), core.SessionFilter{})
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

// eventually polls cond until it holds or a deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// golden compares got, as indented JSON with the replacements applied
// (pairs of old, new), with testdata/name.json; -update rewrites it.
func golden(t testing.TB, name string, got []byte, replace ...string) {
	t.Helper()
	var v any
	if err := json.Unmarshal(got, &v); err != nil {
		t.Fatalf("%s: %v in %s", name, err, got)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(v)
	s := strings.TrimSpace(buf.String())
	for i := 0; i+1 < len(replace); i += 2 {
		if replace[i] != "" {
			s = strings.ReplaceAll(s, replace[i], replace[i+1])
		}
	}
	path := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.WriteFile(path, []byte(s+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if d := cmp.Diff(strings.TrimSpace(string(want)), s); d != "" {
		t.Errorf("%s differs from %s (-want +got):\n%s", name, path, d)
	}
}
