package webchat

import (
	"context"
	"strings"
	"testing"

	"github.com/assistbot/assistbot/adapters/web/webtest"
	"github.com/assistbot/assistbot/core"
)

// TestChatStatus walks a web chat customer's session from the link to
// its end, with the builtin provider (the customer shares from
// assistbot's page) and with one that has its own program (MeshCentral):
// the chat's status line says, at each step, only what is true then.
func TestChatStatus(t *testing.T) {
	tech := core.Actor{Kind: core.ActorTechnician, Name: "tom"}
	customer := core.Actor{Kind: core.ActorCustomer}
	type step struct {
		name string
		act  func(r *rig, s *core.Session) error
		key  string // "" for no status line
	}
	start := func(m core.Mode) func(r *rig, s *core.Session) error {
		return func(r *rig, s *core.Session) error { _, err := r.Engine.Start(ctx, s.ID, tech, m); return err }
	}
	record := func(a core.Action, detail string) func(r *rig, s *core.Session) error {
		return func(r *rig, s *core.Session) error {
			_, err := r.Engine.Record(ctx, s.ID, customer, a, detail)
			return err
		}
	}
	end := func(r *rig, s *core.Session) error { _, err := r.Engine.End(ctx, s.ID, tech); return err }
	for _, tc := range []struct {
		name     string
		builtin  bool
		customer string // the provider's page for the customer, if any
		steps    []step
	}{
		{"builtin", true, "", []step{
			{"link sent", nil, ""},
			{"joined", func(r *rig, s *core.Session) error { r.Join(s, core.DeviceDesktop); return nil }, "portal.status.waiting"},
			{"started view only", start(core.ModeView), "share.ready_screen"},
			{"declined", record(core.ActionShareDecline, "declined"), "share.not_sharing"},
			{"sharing", record(core.ActionShareStart, "screen"), "share.sharing_screen"},
			{"stopped", record(core.ActionShareStop, "stopped by the customer"), "share.not_sharing"},
			{"sharing the camera", record(core.ActionShareStart, "camera"), "share.sharing_camera"},
			{"ended", end, "portal.status.ended"},
		}},
		{"meshcentral", false, "https://mesh.example.com/invite?c=", []step{
			{"link sent", nil, ""},
			{"the program connected", func(r *rig, s *core.Session) error {
				_, err := r.Engine.Report(ctx, core.StatusReport{SessionID: s.ID, Action: core.ActionJoin, Device: core.DeviceDesktop})
				return err
			}, "portal.status.waiting_program"},
			{"started remote control", start(core.ModeControl), "portal.status.active_control"},
			{"ended", end, "portal.status.ended"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, func(o *Options) {
				o.SharePage = func(s *core.Session) string {
					if s.Provider != "builtin" || s.State != core.StateActive || s.Mode != core.ModeView {
						return ""
					}
					return "/s/" + s.ID
				}
			})
			if tc.builtin {
				r.Provider.ProviderName, r.Provider.ModeList = "builtin", []core.Mode{core.ModeView}
			}
			if tc.customer != "" {
				r.Provider.IssueFunc = func(_ context.Context, req core.IssueRequest) (core.Ticket, error) {
					return core.Ticket{PIN: "246810", DesktopURL: r.URL() + "/?code=246810", MobileURL: r.URL() + "/m/246810",
						ManualURL: r.URL() + "/", CustomerURL: tc.customer + "246810"}, nil
				}
			}
			c := r.openChat("en")
			say(c, "help")
			s, _, err := r.Engine.Issue(ctx, core.Request{ConversationID: r.chatConv(c).ID, Agent: "alice"})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := r.Engine.Send(ctx, s.ID, core.Actor{Kind: core.ActorAgent, Name: "alice"}, core.LinkDesktop); err != nil {
				t.Fatal(err)
			}
			for _, st := range tc.steps {
				if st.act != nil {
					if err := st.act(r, s); err != nil {
						t.Fatalf("%s: %v", st.name, err)
					}
				}
				_, body := c.Get("/chat/transcript")
				if st.key == "" {
					webtest.WantNotContains(t, body, `id="chat-status"`)
					continue
				}
				want := `<p class="status" id="chat-status" role="status">` + esc(r.Catalog.T("en", st.key)) + `</p>`
				if !strings.Contains(body, want) {
					t.Errorf("%s: the chat does not say %q:\n%s", st.name, r.Catalog.T("en", st.key), body)
				}
				if st.key != "share.sharing_screen" && st.key != "share.sharing_camera" && strings.Contains(body, "can see your screen") {
					t.Errorf("%s: the chat claims the technician sees the screen", st.name)
				}
				if has := strings.Contains(body, "chat-share"); has != strings.HasPrefix(st.key, "share.") {
					t.Errorf("%s: link to the share page: %t", st.name, has)
				}
			}
		})
	}
}
