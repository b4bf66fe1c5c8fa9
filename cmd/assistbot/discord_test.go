package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/discord/discordtest"
	"github.com/assistbot/assistbot/config"
	"github.com/assistbot/assistbot/core/coretest"
)

// The Discord side of the end-to-end tests.
const (
	dAppID   = "100000000000000001"
	dGuild   = "200000000000000002"
	dDesk    = "300000000000000003"
	dRole    = "400000000000000004"
	dAgent   = "500000000000000005"
	dSupport = "600000000000000006"
	dPat     = "700000000000000007"
	dToken   = "e2e-discord-bot-token"
)

// discordE2E is a Main with Discord in HTTP-interactions mode, in front
// of a fake Discord, and the key that signs its interactions.
type discordE2E struct {
	*server
	fake *discordtest.Fake
	key  ed25519.PrivateKey
	seq  int
}

func startDiscord(t *testing.T) *discordE2E {
	t.Helper()
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, ed25519.SeedSize))
	fake := discordtest.New(t, dToken)
	s := startMain(t, func(c *config.Config) {
		c.Server.PublicURL = "https://support.example.com"
		c.Discord = config.Discord{Enabled: true, Token: dToken, ApplicationID: dAppID,
			PublicKey: hex.EncodeToString(key.Public().(ed25519.PublicKey)), GuildID: dGuild, DeskChannel: dDesk,
			AgentRoles: []string{dRole}, Gateway: false, SyncCommands: true, APIURL: fake.APIURL()}
	}, &Main{PINs: coretest.NewPINs("012345")})
	return &discordE2E{server: s, fake: fake, key: key}
}

// interact posts an interaction signed at at, as Discord signs it.
func (d *discordE2E) interact(body string, at time.Time) (int, string) {
	d.t.Helper()
	ts := strconv.FormatInt(at.Unix(), 10)
	req, _ := http.NewRequest("POST", d.url+"/discord/interactions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature-Timestamp", ts)
	req.Header.Set("X-Signature-Ed25519", hex.EncodeToString(ed25519.Sign(d.key, []byte(ts+body))))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// interaction returns the JSON of an interaction of typ by alice in
// channel with data and extra fields.
func (d *discordE2E) interaction(typ int, channel string, roles []string, data, extra string) string {
	d.seq++
	roleJSON, _ := json.Marshal(roles)
	return fmt.Sprintf(`{"id":"9%017d","application_id":"%s","type":%d,"token":"e2e-token-%d","version":1,"guild_id":"%s","channel_id":"%s",`+
		`"locale":"en-US","member":{"user":{"id":"%s","username":"alice"},"roles":%s},"data":%s%s}`,
		d.seq, dAppID, typ, d.seq, dGuild, channel, dAgent, roleJSON, data, extra)
}

// discordResponse is the part of an interaction response the test reads.
type discordResponse struct {
	Type int `json:"type"`
	Data struct {
		Content string `json:"content"`
		Flags   int    `json:"flags"`
		Embeds  []struct {
			Description string `json:"description"`
			Fields      []struct{ Name, Value string }
		} `json:"embeds"`
		Components []struct {
			Components []struct {
				CustomID string `json:"custom_id"`
			} `json:"components"`
		} `json:"components"`
	} `json:"data"`
}

func (r discordResponse) button(prefix string) string {
	for _, row := range r.Data.Components {
		for _, c := range row.Components {
			if strings.HasPrefix(c.CustomID, prefix+":") {
				return c.CustomID
			}
		}
	}
	return ""
}

// call posts an interaction signed now and decodes the answer.
func (d *discordE2E) call(body string) discordResponse {
	d.t.Helper()
	code, resp := d.interact(body, time.Now())
	var r discordResponse
	if code != http.StatusOK || json.Unmarshal([]byte(resp), &r) != nil {
		d.t.Fatalf("interaction answered %d: %s", code, resp)
	}
	return r
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDiscordEndToEnd walks the Discord flow through the real Main in
// HTTP-interactions mode: /remote customer:@pat → the card → "Send
// desktop link" → the DM with the link at Discord → the customer's Start
// on the portal → "Customer is waiting" in the conversation's desk thread.
func TestDiscordEndToEnd(t *testing.T) {
	d := startDiscord(t)
	if reqs := d.fake.Requests(); len(reqs) != 1 || reqs[0].Method != "PUT" || reqs[0].Path != "applications/"+dAppID+"/guilds/"+dGuild+"/commands" {
		t.Fatalf("sync_commands at start: %+v", reqs)
	}

	cmd := d.interaction(2, dSupport, []string{dRole},
		`{"id":"1","name":"remote","type":1,"options":[{"name":"customer","type":6,"value":"`+dPat+`"}],`+
			`"resolved":{"users":{"`+dPat+`":{"id":"`+dPat+`","username":"pat","global_name":"Pat"}}}}`, "")
	card := d.call(cmd)
	if card.Type != 4 || card.Data.Flags != 64 || len(card.Data.Embeds) != 1 {
		t.Fatalf("card %+v", card)
	}
	fields := card.Data.Embeds[0].Fields
	if len(fields) != 3 || fields[0].Value != "`012345`" || fields[1].Value != sessionLink(t, d.server, "012345", "desktop") {
		t.Fatalf("card fields %+v", fields)
	}
	send := card.button("remote.send_desktop")
	sessionID := strings.TrimPrefix(send, "remote.send_desktop:")

	click := d.interaction(3, dSupport, []string{dRole}, `{"custom_id":"`+send+`","component_type":2}`,
		`,"message":{"id":"800000000000000001","channel_id":"`+dSupport+`","flags":64,"content":""}`)
	updated := d.call(click)
	if updated.Type != 7 || !strings.Contains(updated.Data.Embeds[0].Description, "Link sent") {
		t.Fatalf("after send: %+v", updated)
	}
	waitFor(t, "the DM with the link", func() bool {
		dms := d.fake.DMs(dPat)
		return len(dms) == 1 && strings.Contains(dms[0].Content, "https://support.example.com/?code=012345")
	})

	form := url.Values{"code": {"012345"}}
	resp, err := browser(t).PostForm(d.url+"/join", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("join: %d", resp.StatusCode)
	}
	var thread string
	waitFor(t, "Customer is waiting in the desk thread", func() bool {
		th := d.fake.Threads()
		if len(th) != 1 || th[0].ParentID != dDesk {
			return false
		}
		thread = th[0].ID
		for _, m := range d.fake.Messages(thread) {
			if strings.HasPrefix(m.Content, "Customer is waiting (computer).") && strings.Contains(string(m.Components), "remote.start_view:"+sessionID) {
				return true
			}
		}
		return false
	})
	var sess apiSession
	d.api("GET", "/api/v1/sessions/"+sessionID, "", &sess)
	if sess.State != "waiting" {
		t.Errorf("session %+v", sess)
	}
	// The outbox records the thread once the alert's delivery is done; an
	// agent's click on the alert comes after that.
	waitFor(t, "the alert's delivery recorded", func() bool {
		var got struct {
			Deliveries []struct{ Kind, Status string }
		}
		d.api("GET", "/api/v1/sessions/"+sessionID, "", &got)
		for _, dl := range got.Deliveries {
			if dl.Kind == "session" && dl.Status == "sent" {
				return true
			}
		}
		return false
	})
	// The agent's card followed: the waiting customer and the start button
	// (the builtin provider offers view only).
	waitFor(t, "the card refreshed through the interaction token", func() bool {
		m, ok := d.fake.Webhook(fmt.Sprintf("e2e-token-%d", 2))
		return ok && strings.Contains(string(m.Embeds), "Customer is waiting") && strings.Contains(string(m.Components), "remote.start_view:"+sessionID)
	})

	// The technician starts from the thread's alert.
	start := d.interaction(3, thread, []string{dRole}, `{"custom_id":"remote.start_view:`+sessionID+`","component_type":2}`,
		`,"message":{"id":"800000000000000002","channel_id":"`+thread+`","flags":0,"content":""}`)
	if r := d.call(start); r.Type != 7 || r.Data.Content != "alice started the session (view only)." {
		t.Errorf("start from the thread: %+v", r)
	}
}

// TestDiscordRefusals: bad and old signatures, malformed bodies, members
// without the role and other guilds, through the real Main.
func TestDiscordRefusals(t *testing.T) {
	d := startDiscord(t)
	cmd := d.interaction(2, dSupport, []string{dRole}, `{"id":"1","name":"remote","type":1,"options":[{"name":"customer","type":6,"value":"`+dPat+`"}]}`, "")
	if code, _ := d.interact(cmd, time.Now().Add(-10*time.Minute)); code != http.StatusUnauthorized {
		t.Errorf("old signature: %d", code)
	}
	req, _ := http.NewRequest("POST", d.url+"/discord/interactions", strings.NewReader(cmd))
	req.Header.Set("X-Signature-Timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	req.Header.Set("X-Signature-Ed25519", strings.Repeat("00", 64))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("bad signature: %v %v", resp.StatusCode, err)
	}
	if code, _ := d.interact(`{"type":2,"data":`, time.Now()); code != http.StatusBadRequest {
		t.Errorf("malformed: %d", code)
	}
	noRole := d.interaction(2, dSupport, []string{"999"}, `{"id":"1","name":"remote","type":1}`, "")
	if r := d.call(noRole); r.Data.Content != "Only support agents can do that here." || r.Data.Flags != 64 {
		t.Errorf("without the role: %+v", r)
	}
	foreign := strings.Replace(d.interaction(2, dSupport, []string{dRole}, `{"id":"1","name":"remote","type":1}`, ""), dGuild, "999999999999999999", 1)
	if r := d.call(foreign); r.Data.Content != "Only support agents can do that here." {
		t.Errorf("another guild: %+v", r)
	}
	var list struct{ Sessions []apiSession }
	d.api("GET", "/api/v1/sessions", "", &list)
	if len(list.Sessions) != 0 {
		t.Errorf("refused requests issued %d sessions", len(list.Sessions))
	}
}

// TestDiscordSyncCommands registers the commands from the command line.
func TestDiscordSyncCommands(t *testing.T) {
	fake := discordtest.New(t, dToken)
	path := writeFile(t, "discord:\n  token: \"${DISCORD_BOT_TOKEN}\"\n  application_id: \""+dAppID+"\"\n  api_url: \""+fake.APIURL()+"\"\n")
	code, out, errOut := runCLI(t, map[string]string{"DISCORD_BOT_TOKEN": dToken}, "--config", path, "discord", "sync-commands")
	if code != exitOK || !strings.HasPrefix(out, "registered /remote globally (id ") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	if reqs := fake.Requests(); len(reqs) != 1 || reqs[0].Path != "applications/"+dAppID+"/commands" {
		t.Errorf("requests %+v", reqs)
	}
	code, _, errOut = runCLI(t, map[string]string{"DISCORD_BOT_TOKEN": "wrong"}, "--config", path, "discord", "sync-commands")
	if code != exitFailed || !strings.Contains(errOut, "refused the bot token") || strings.Contains(errOut, "wrong") {
		t.Errorf("refused token: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, nil, "discord", "sync-commands"); code != exitFailed || !strings.Contains(errOut, "discord.application_id") {
		t.Errorf("unconfigured: exit %d, stderr %q", code, errOut)
	}
	if code, _, _ := runCLI(t, nil, "discord"); code != exitUsage {
		t.Errorf("no subcommand: exit %d", code)
	}
}
