package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/assistbot/assistbot/adapters/provider/meshcentral/meshcentraltest"
	"github.com/assistbot/assistbot/config"
	"github.com/assistbot/assistbot/core"
)

// TestMeshCentralSession runs a whole session through Main with
// provider.kind meshcentral, against the protocol fake of a MeshCentral
// server: the API issues a PIN that is the group's invite code and an
// assistbot landing page that leads to MeshCentral's, the customer's
// agent connecting makes the session wait, the technician starts in
// remote control and gets the share link, and at the end everything made
// on the server is gone.
func TestMeshCentralSession(t *testing.T) {
	fake := meshcentraltest.New(t)
	s := startMain(t, func(c *config.Config) {
		c.Provider.Kind = "meshcentral"
		c.MeshCentral.URL = fake.URL
		c.MeshCentral.User, c.MeshCentral.Password, c.MeshCentral.LoginToken = meshcentraltest.User, meshcentraltest.Password, ""
		c.MeshCentral.CertSHA256 = fake.CertSHA256()
	}, &Main{})

	var issued struct {
		ID, PIN, State string
		DesktopURL     string `json:"desktop_url"`
		MobileURL      string `json:"mobile_url"`
		ManualURL      string `json:"manual_url"`
	}
	if code := s.api(http.MethodPost, "/api/v1/sessions", `{"agent":"alice"}`, &issued); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	base := s.Config.Server.PublicURL
	if issued.State != "issued" || !core.ValidPIN(issued.PIN) || !strings.HasPrefix(issued.DesktopURL, base+"/?code="+issued.PIN) ||
		!strings.HasPrefix(issued.MobileURL, base+"/m/"+issued.PIN) || issued.ManualURL != base+"/" {
		t.Fatalf("issued %+v", issued)
	}
	sess, err := s.Engine().Session(context.Background(), issued.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := fake.URL + "/invite?c=" + issued.PIN; sess.CustomerURL != want {
		t.Errorf("the customer's MeshCentral page = %q, want %q", sess.CustomerURL, want)
	}
	if mesh, ok := fake.Mesh(sess.ProviderRef); !ok || len(mesh.InviteCodes) != 1 || mesh.InviteCodes[0] != issued.PIN {
		t.Fatalf("the device group on the server: %+v (found %v)", mesh, ok)
	}

	// The customer runs the agent from MeshCentral's page for this code.
	node, err := fake.JoinWithCode(issued.PIN, meshcentraltest.Agent{})
	if err != nil {
		t.Fatal(err)
	}
	state := func() string {
		got, err := s.Engine().Session(context.Background(), issued.ID)
		if err != nil {
			t.Fatal(err)
		}
		return string(got.State)
	}
	for deadline := time.Now().Add(10 * time.Second); state() != "waiting"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the agent connected but the session is %s", state())
		}
	}

	if code := s.api(http.MethodPost, "/api/v1/sessions/"+issued.ID+"/start", `{"mode":"control","technician":"tom"}`, nil); code != http.StatusOK {
		t.Fatalf("start: %d", code)
	}
	started, _ := s.Engine().Session(context.Background(), issued.ID)
	shares := fake.Shares(node)
	if len(shares) != 1 || shares[0].ViewOnly || shares[0].Guest != "tom" || started.TechnicianURL != shares[0].URL {
		t.Fatalf("shares %+v; the technician's link %q", shares, started.TechnicianURL)
	}

	if code := s.api(http.MethodPost, "/api/v1/sessions/"+issued.ID+"/end", `{}`, nil); code != http.StatusOK {
		t.Fatalf("end: %d", code)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mesh, _ := fake.Mesh(sess.ProviderRef)
		if fake.MeshCount() == 0 && len(fake.Shares(node)) == 0 && !fake.AgentRunning(node) && mesh.Deleted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the end the server still holds: %d groups, shares %+v, agent running %v",
				fake.MeshCount(), fake.Shares(node), fake.AgentRunning(node))
		}
	}
}
