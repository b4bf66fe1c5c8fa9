package console

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/bots/i18n"
	"github.com/assistbot/assistbot/bots/remote"
	"github.com/assistbot/assistbot/core"
)

// view is what a console template sees. Pages fill the
// parts they show; every sentence comes from the catalog through T, in
// the page's language.
type view struct {
	Lang  string
	Title string
	// Agent is the signed-in agent; empty on the sign-in form.
	Agent string
	// CSRF is the token every form and fetch of the page carries.
	CSRF  string
	Error string
	// Name is the name typed on the sign-in form.
	Name string
	// Strings are the catalog texts the page's script shows, in the
	// page's language, rendered into a JSON data block.
	Strings map[string]string
	// Return is where a form without script comes back to.
	Return string

	Queue         []queueGroup
	Conversations []convItem
	Conv          *convView
	Lines         []lineView
	Sessions      []sessionLine
	// ListSessions lists Sessions under the transcript: on the
	// conversation's page, not on a session's, which is about one.
	ListSessions bool
	Card         *cardView
	Viewer       *viewerConfig // session page: the shared screen's viewer
	Log          []eventLine
	Snippet      string // the web chat's embed code
	catalog      *i18n.Catalog
	now          time.Time
	// Colleagues are the console's agents, whom the hand-off form lists.
	Colleagues []string
	// Supervisor: the signed-in agent is one, and sees the Reports link.
	Supervisor bool
	Report     *reportView // the reports page
}

// T returns the catalog's text for key in the page's language.
func (v *view) T(key string, kv ...string) string { return v.catalog.T(v.Lang, key, kv...) }

// Age says how long ago t was, shortly ("4 min").
func (v *view) Age(t time.Time) string { return ageText(v.catalog, v.Lang, v.now.Sub(t)) }

// ageText renders a duration the way the console's script does, from
// the same catalog keys.
func ageText(c *i18n.Catalog, lang string, d time.Duration) string {
	switch {
	case d < time.Minute:
		return c.T(lang, "console.age.now")
	case d < time.Hour:
		return c.T(lang, "console.age.minutes", "n", strconv.Itoa(int(d/time.Minute)))
	case d < 48*time.Hour:
		return c.T(lang, "console.age.hours", "n", strconv.Itoa(int(d/time.Hour)))
	}
	return c.T(lang, "console.age.days", "n", strconv.Itoa(int(d/(24*time.Hour))))
}

// view starts a console page for si (nil on the sign-in form) in the
// language the browser asks for.
func (c *Console) view(r *http.Request, si *signIn) *view {
	v := &view{
		Lang:    c.catalog.Match(r.Header.Get("Accept-Language")),
		catalog: c.catalog,
		now:     c.clock.Now(),
	}
	if si != nil {
		v.Agent, v.CSRF = si.agent, si.csrf
		v.Colleagues = c.colleagues()
		v.Supervisor = c.role(si.agent) == Supervisor
		v.Strings = c.consoleStrings(v.Lang)
	}
	return v
}

// consoleStrings returns the texts console.js shows.
func (c *Console) consoleStrings(lang string) map[string]string {
	out := map[string]string{}
	for name, key := range map[string]string{
		"sound_on":      "console.sound.on",
		"sound_off":     "console.sound.off",
		"notify_enable": "console.notify.enable",
		"notify_title":  "console.notify.title",
		"reconnecting":  "console.live.reconnecting",
		"error":         "error.internal",
		"copied":        "console.copied",
		"age_now":       "console.age.now",
		"age_minutes":   "console.age.minutes",
		"age_hours":     "console.age.hours",
		"age_days":      "console.age.days",
		"expires_local": "console.card.expires_local",
	} {
		out[name] = c.catalog.T(lang, key)
	}
	return out
}

// parsePages parses the console's templates into one set;
// each page and fragment is a named template of it.
func (c *Console) parsePages() (*template.Template, error) {
	funcs := template.FuncMap{
		"asset": c.assets.URL,
		"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		// Times are the agent's, in their zone, once the page's script
		// runs; until then they say they are UTC.
		"clock":        func(t time.Time) string { return t.UTC().Format("15:04 UTC") },
		"clockSeconds": func(t time.Time) string { return t.UTC().Format("15:04:05 UTC") },
		"label":        func(state core.State) string { return "state-" + string(state) },
		"style": func(s remote.Style) string {
			if s == remote.StyleDefault {
				return "default"
			}
			return string(s)
		},
	}
	t, err := template.New("console").Funcs(funcs).ParseFS(templateFiles, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("console: templates: %w", err)
	}
	return t, nil
}

// render executes the named template into a buffer first, so a template
// failure becomes a clean 500 rather than half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	var buf bytes.Buffer
	if err := c.pages.ExecuteTemplate(&buf, name, v); err != nil {
		c.log.Error("render console page", "route", r.Pattern, "template", name, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail answers a request the console refuses: JSON with the sentence for
// the console's script, a small page for a plain browser request.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, status int, key string) {
	lang := c.catalog.Match(r.Header.Get("Accept-Language"))
	msg := c.catalog.T(lang, key)
	c.failText(w, r, status, msg)
}

// failText is fail with a sentence already in the reader's language.
func (c *Console) failText(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if web.WantsJSON(r) {
		body := map[string]string{"error": msg}
		if status == http.StatusUnauthorized {
			body["signin"] = "/console/login"
		}
		web.WriteJSON(w, status, body)
		return
	}
	v := c.view(r, nil)
	v.Title, v.Error = msg, msg
	if status != http.StatusUnauthorized {
		v.Return = "/console"
	}
	c.render(w, r, status, "console_error", v)
}

// localPath returns p when it is a path of the console or the chat, so
// that a form's return field cannot send the browser elsewhere, and def
// otherwise.
func localPath(p, def string) string {
	if (strings.HasPrefix(p, "/console") || strings.HasPrefix(p, "/chat")) && !strings.ContainsAny(p, "\\\r\n") && !strings.HasPrefix(p, "//") {
		return p
	}
	return def
}
