package check

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"sigs.k8s.io/yaml"
)

const composeFile = "../compose.yaml"

// composeEnv is what an operator sets before `docker compose up`: every
// variable compose.yaml asks for, with dummy values.
func composeEnv() map[string]string {
	return map[string]string{
		"PUBLIC_HOST":         "support.example.com",
		"POSTGRES_PASSWORD":   "a-dummy-database-password",
		"ADMIN_PASSWORD_HASH": dummyHash,
		"ASSISTBOT_API_TOKEN": "0123456789abcdef0123456789abcdef",
		"METRICS_TOKEN":       "fedcba9876543210fedcba9876543210",
	}
}

// meshcentralEnv adds what the meshcentral profile needs.
func meshcentralEnv() map[string]string {
	env := composeEnv()
	env["ASSISTBOT_PROVIDER_KIND"] = "meshcentral"
	env["MESHCENTRAL_HOST"] = "mesh.example.com"
	env["MESHCENTRAL_LOGIN_TOKEN"] = "~t:assistbot-token:a-dummy-token-password"
	env["MESHCENTRAL_CERT_SHA256"] = strings.Repeat("ab", 32)
	return env
}

// loadCompose loads compose.yaml as `docker compose config` does: the
// compose-spec schema, interpolation, profiles, normalisation and
// consistency checks. Only env is seen: neither this process's
// environment nor a .env file.
func loadCompose(t *testing.T, env map[string]string, profiles ...string) (*types.Project, error) {
	t.Helper()
	var list []string
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	opts, err := cli.NewProjectOptions([]string{composeFile},
		cli.WithEnv(list),
		cli.WithProfiles(profiles),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		t.Fatal(err)
	}
	return cli.ProjectFromOptions(context.Background(), opts)
}

func mustLoadCompose(t *testing.T, env map[string]string, profiles ...string) *types.Project {
	t.Helper()
	p, err := loadCompose(t, env, profiles...)
	if err != nil {
		t.Fatalf("loading %s: %v", composeFile, err)
	}
	return p
}

func TestComposeRequiresItsSecrets(t *testing.T) {
	for _, name := range []string{"PUBLIC_HOST", "POSTGRES_PASSWORD", "ADMIN_PASSWORD_HASH"} {
		env := composeEnv()
		delete(env, name)
		_, err := loadCompose(t, env)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("without %s: loading gave %v; want an error naming it", name, err)
		}
	}
}

func TestComposeServices(t *testing.T) {
	p := mustLoadCompose(t, composeEnv())
	want := []string{"assistbot-1", "assistbot-2", "postgres", "proxy"}
	if got := p.ServiceNames(); !slices.Equal(sorted(got), want) {
		t.Fatalf("services without a profile: %v, want %v", got, want)
	}
	if _, ok := p.DisabledServices["meshcentral"]; !ok {
		t.Errorf("meshcentral should be disabled without its profile")
	}

	// Two replicas, configured alike.
	a, b := p.Services["assistbot-1"], p.Services["assistbot-2"]
	a.Name, b.Name = "", ""
	if !reflect.DeepEqual(a, b) {
		t.Errorf("assistbot-1 and assistbot-2 differ beyond their names")
	}
	r := p.Services["assistbot-1"]
	if r.Build == nil || r.Build.Context != mustAbs(t, repoRoot) {
		t.Errorf("assistbot builds from %+v, want the repository's Dockerfile", r.Build)
	}
	if !slices.Equal(r.Command, types.ShellCommand{"serve"}) {
		t.Errorf("assistbot command %v, want [serve]", r.Command)
	}
	if r.Deploy != nil && r.Deploy.Replicas != nil && *r.Deploy.Replicas != 1 {
		t.Errorf("each replica service should run one container, got %d", *r.Deploy.Replicas)
	}

	// Liveness: the image's own health check, which asks /healthz.
	if r.HealthCheck == nil || !slices.Equal([]string(r.HealthCheck.Test), []string{"CMD", "/usr/local/bin/assistbot", "healthcheck"}) {
		t.Errorf("assistbot healthcheck %+v, want `assistbot healthcheck`", r.HealthCheck)
	}
	dockerfile, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dockerfile), "/usr/local/bin/assistbot") {
		t.Errorf("the Dockerfile no longer installs /usr/local/bin/assistbot, which the health check runs")
	}

	// PostgreSQL, waited for, and the DSN that reaches it.
	pg := p.Services["postgres"]
	if !strings.HasPrefix(pg.Image, "postgres:") {
		t.Errorf("postgres image %q", pg.Image)
	}
	if pg.HealthCheck == nil || len(pg.HealthCheck.Test) < 2 || pg.HealthCheck.Test[1] != "pg_isready" {
		t.Errorf("postgres healthcheck %+v, want pg_isready", pg.HealthCheck)
	}
	if d, ok := r.DependsOn["postgres"]; !ok || d.Condition != types.ServiceConditionHealthy || !d.Required {
		t.Errorf("assistbot depends on postgres as %+v, want required and healthy", d)
	}
	if got, want := env(r, "PGPASSWORD"), env(pg, "POSTGRES_PASSWORD"); got != want || got == "" {
		t.Errorf("assistbot's PGPASSWORD and postgres's POSTGRES_PASSWORD differ")
	}
	cfgFile := configFileOf(t, r)
	var cfg struct {
		Store struct{ Driver, DSN string } `json:"store"`
	}
	readYAML(t, cfgFile, &cfg)
	if cfg.Store.Driver != "postgres" {
		t.Errorf("store.driver %q, want postgres", cfg.Store.Driver)
	}
	dsn, err := url.Parse(cfg.Store.DSN)
	if err != nil {
		t.Fatalf("store.dsn: %v", err)
	}
	if _, hasPassword := dsn.User.Password(); hasPassword {
		t.Errorf("store.dsn carries a password; it comes from PGPASSWORD")
	}
	if dsn.Hostname() != "postgres" || dsn.User.Username() != env(pg, "POSTGRES_USER") || strings.TrimPrefix(dsn.Path, "/") != env(pg, "POSTGRES_DB") {
		t.Errorf("store.dsn %s does not name the postgres service's user and database", cfg.Store.DSN)
	}
	if !slices.Contains(sorted(keys(r.Networks)), "back") || !slices.Contains(sorted(keys(pg.Networks)), "back") {
		t.Errorf("assistbot and postgres do not share the back network")
	}
}

func TestComposeProxy(t *testing.T) {
	p := mustLoadCompose(t, composeEnv())
	px := p.Services["proxy"]
	if !strings.HasPrefix(px.Image, "caddy:") {
		t.Fatalf("proxy image %q, want Caddy", px.Image)
	}
	published := map[uint32]bool{}
	for _, port := range px.Ports {
		published[port.Target] = true
	}
	if !published[80] || !published[443] {
		t.Errorf("proxy publishes %v, want 80 and 443", px.Ports)
	}
	for name, s := range p.Services {
		if name != "proxy" && name != "meshcentral" && len(s.Ports) > 0 {
			t.Errorf("%s publishes ports; only the proxy should", name)
		}
	}
	var caddyfile string
	for _, v := range px.Volumes {
		if v.Target == "/etc/caddy/Caddyfile" {
			caddyfile = v.Source
		}
	}
	if caddyfile == "" {
		t.Fatalf("the proxy mounts no /etc/caddy/Caddyfile")
	}
	data, err := os.ReadFile(caddyfile)
	if err != nil {
		t.Fatal(err)
	}
	directives := caddyDirectives(string(data))

	// Both replicas, on the port they listen on: a screen share's sockets
	// by their session (?s=), everything else round-robin, nothing sticky.
	r := p.Services["assistbot-1"]
	port := configListenPort(t, mustRead(t, configFileOf(t, r)))
	upstreams := directives["reverse_proxy"]
	if len(upstreams) != 2 || !slices.Equal(upstreams[0], []string{"@share", "assistbot-1:" + port, "assistbot-2:" + port, "{"}) ||
		!slices.Equal(upstreams[1], []string{"assistbot-1:" + port, "assistbot-2:" + port, "{"}) {
		t.Errorf("reverse_proxy %v, want both replicas on port %s, for the share's sockets and for the rest", upstreams, port)
	}
	if lb := directives["lb_policy"]; len(lb) != 2 || !slices.Equal(lb[0], []string{"query", "s"}) || !slices.Equal(lb[1], []string{"round_robin"}) {
		t.Errorf("lb_policy %v, want the share's sockets by ?s= and the rest round_robin", lb)
	}
	if m := directives["@share"]; len(m) != 1 || len(m[0]) != 2 || m[0][0] != "path_regexp" {
		t.Errorf("@share %v, want a path_regexp matcher", m)
	} else {
		share := regexp.MustCompile(m[0][1])
		for path, want := range map[string]bool{"/s/06h5/signal": true, "/console/sessions/06h5/signal": true,
			"/s/06h5": false, "/console/sessions/06h5": false, "/console": false, "/x/s/06h5/signal": false} {
			if share.MatchString(path) != want {
				t.Errorf("@share matches %s: %v, want %v", path, !want, want)
			}
		}
	}
	for _, h := range directives["health_uri"] {
		if len(directives["health_uri"]) != 2 || !slices.Equal(h, []string{"/readyz"}) {
			t.Errorf("health_uri %v, want the readiness route /readyz for both", directives["health_uri"])
		}
	}
	if site := firstWord(string(data)); site != "{$PUBLIC_HOST}" {
		t.Errorf("the Caddyfile's site is %q, want {$PUBLIC_HOST}", site)
	}
	if env(px, "PUBLIC_HOST") != env(r, "PUBLIC_HOST") {
		t.Errorf("the proxy and assistbot see different PUBLIC_HOST values")
	}

	// The proxy's network is the replicas' trusted proxy range, and holds
	// nothing else.
	front, ok := p.Networks["front"]
	if !ok || len(front.Ipam.Config) != 1 {
		t.Fatalf("network front %+v, want one subnet", front)
	}
	if got := front.Ipam.Config[0].Subnet; got != env(r, "PROXY_SUBNET") {
		t.Errorf("front's subnet %s is not the replicas' PROXY_SUBNET %s", got, env(r, "PROXY_SUBNET"))
	}
	for name, s := range p.Services {
		if _, on := s.Networks["front"]; on != (name == "proxy" || strings.HasPrefix(name, "assistbot-")) {
			t.Errorf("%s on the front network: %v", name, on)
		}
	}
	var cfg struct {
		Server struct {
			TrustedProxies []string `json:"trusted_proxies"`
		} `json:"server"`
	}
	readYAML(t, configFileOf(t, r), &cfg)
	if !slices.Equal(cfg.Server.TrustedProxies, []string{"${PROXY_SUBNET}"}) {
		t.Errorf("server.trusted_proxies %v, want [${PROXY_SUBNET}]", cfg.Server.TrustedProxies)
	}
}

func TestComposeMeshCentralProfile(t *testing.T) {
	p := mustLoadCompose(t, meshcentralEnv(), "meshcentral")
	mc, ok := p.Services["meshcentral"]
	if !ok {
		t.Fatalf("no meshcentral service with the meshcentral profile: %v", p.ServiceNames())
	}
	if !slices.Equal(mc.Profiles, []string{"meshcentral"}) {
		t.Errorf("meshcentral profiles %v", mc.Profiles)
	}
	if !strings.Contains(mc.Image, "meshcentral") {
		t.Errorf("meshcentral image %q", mc.Image)
	}
	r := p.Services["assistbot-1"]
	if d, ok := r.DependsOn["meshcentral"]; !ok || d.Required || d.Condition != types.ServiceConditionHealthy {
		t.Errorf("assistbot depends on meshcentral as %+v, want healthy but not required", d)
	}
	host := meshcentralEnv()["MESHCENTRAL_HOST"]
	if got, want := env(r, "MESHCENTRAL_URL"), "https://"+host+":4430"; got != want {
		t.Errorf("assistbot's MESHCENTRAL_URL %q, want %q", got, want)
	}
	if n := mc.Networks["back"]; n == nil || !slices.Contains(n.Aliases, host) {
		t.Errorf("meshcentral is not %s on the back network", host)
	}
	if got := env(mc, "ARGS"); got != "--cert="+host {
		t.Errorf("meshcentral ARGS %q, want its certificate for %s", got, host)
	}
	published := false
	for _, port := range mc.Ports {
		published = published || (port.Target == 4430 && port.Published == "4430")
	}
	if !published {
		t.Errorf("meshcentral publishes %v, want 4430", mc.Ports)
	}
	var mcConfig string
	for _, v := range mc.Volumes {
		if v.Target == env(mc, "CONFIG_FILE") {
			mcConfig = v.Source
		}
	}
	if mcConfig == "" {
		t.Fatalf("meshcentral mounts nothing at its CONFIG_FILE %s", env(mc, "CONFIG_FILE"))
	}
	var conf struct {
		Settings struct {
			Port int `json:"port"`
		} `json:"settings"`
		Domains map[string]struct {
			AgentInviteCodes bool `json:"agentInviteCodes"`
		} `json:"domains"`
	}
	if err := json.Unmarshal(mustRead(t, mcConfig), &conf); err != nil {
		t.Fatalf("%s: %v", mcConfig, err)
	}
	if conf.Settings.Port != 4430 || !conf.Domains[""].AgentInviteCodes {
		t.Errorf("%s: port %d, agentInviteCodes %v; want 4430 and true (the PIN is a group's invite code)", mcConfig, conf.Settings.Port, conf.Domains[""].AgentInviteCodes)
	}
}

// TestComposeConfigChecks runs `assistbot config check` on the file compose
// mounts, with the environment compose gives the replicas: the builtin
// provider by default, and MeshCentral with the profile's variables.
func TestComposeConfigChecks(t *testing.T) {
	for _, c := range []struct {
		name     string
		env      map[string]string
		profiles []string
	}{
		{"builtin", composeEnv(), nil},
		{"meshcentral", meshcentralEnv(), []string{"meshcentral"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := mustLoadCompose(t, c.env, c.profiles...)
			for _, name := range []string{"assistbot-1", "assistbot-2"} {
				s := p.Services[name]
				mustPassConfigCheck(t, name, configFileOf(t, s), environ(serviceEnv(s)))
			}
		})
	}

	// And it does check: without MESHCENTRAL_HOST, MeshCentral is refused.
	env := meshcentralEnv()
	delete(env, "MESHCENTRAL_HOST")
	s := mustLoadCompose(t, env).Services["assistbot-1"]
	out, ok := configCheck(t, configFileOf(t, s), environ(serviceEnv(s)))
	if ok || !strings.Contains(out, "meshcentral.url") {
		t.Errorf("MeshCentral without MESHCENTRAL_HOST passed config check:\n%s", out)
	}
}

// configFileOf returns the host path of the file mounted where the
// service's ASSISTBOT_CONFIG points.
func configFileOf(t *testing.T, s types.ServiceConfig) string {
	t.Helper()
	target := env(s, "ASSISTBOT_CONFIG")
	if target == "" {
		t.Fatalf("%s sets no ASSISTBOT_CONFIG", s.Name)
	}
	for _, v := range s.Volumes {
		if v.Target == target {
			if !v.ReadOnly {
				t.Errorf("%s mounts %s writable", s.Name, target)
			}
			return v.Source
		}
	}
	t.Fatalf("%s mounts nothing at ASSISTBOT_CONFIG %s", s.Name, target)
	return ""
}

// serviceEnv returns the service's environment after interpolation.
func serviceEnv(s types.ServiceConfig) map[string]string {
	m := map[string]string{}
	for k, v := range s.Environment {
		if v != nil {
			m[k] = *v
		}
	}
	return m
}

func env(s types.ServiceConfig, name string) string {
	if v := s.Environment[name]; v != nil {
		return *v
	}
	return ""
}

// caddyDirectives maps each directive of a Caddyfile (the first word of a
// line, comments left out) to the arguments of each of its lines.
func caddyDirectives(caddyfile string) map[string][][]string {
	d := map[string][][]string{}
	for _, line := range strings.Split(caddyfile, "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		if len(f) > 0 {
			d[f[0]] = append(d[f[0]], f[1:])
		}
	}
	return d
}

var commentLine = regexp.MustCompile(`(?m)^\s*#.*$`)

// firstWord returns the Caddyfile's first word outside comments: its site.
func firstWord(caddyfile string) string {
	f := strings.Fields(commentLine.ReplaceAllString(caddyfile, ""))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

func readYAML(t *testing.T, file string, v any) {
	t.Helper()
	if err := yaml.Unmarshal(mustRead(t, file), v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

func mustRead(t *testing.T, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustAbs(t *testing.T, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func keys[V any](m map[string]V) []string {
	var k []string
	for name := range m {
		k = append(k, name)
	}
	return k
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
