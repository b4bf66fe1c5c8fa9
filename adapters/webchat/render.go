package webchat

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/assistbot/assistbot/adapters/web"
	"github.com/assistbot/assistbot/bots/i18n"
)

// view is what the chat's templates see. Every sentence comes from the
// catalog through T, in the page's language.
type view struct {
	Lang  string
	Title string
	// CSRF is the token every form and fetch of the page carries.
	CSRF  string
	Error string
	// Strings are the catalog texts the page's script shows, in the
	// page's language, rendered into a JSON data block.
	Strings  map[string]string
	Lines    []lineView
	Status   string // where the customer's session stands
	ShareURL string // the share page, while the technician views
	Started  bool   // the customer has written before
	Closed   bool   // the agent closed the conversation
	// Draft and Name are what a refused message's form held, put back in
	// the page's form.
	Draft   string
	Name    string
	catalog *i18n.Catalog
}

// T returns the catalog's text for key in the page's language.
func (v *view) T(key string, kv ...string) string { return v.catalog.T(v.Lang, key, kv...) }

// view starts a chat page in the language the browser asks for.
func (c *Chat) view(r *http.Request) *view {
	return &view{Lang: c.catalog.Match(r.Header.Get("Accept-Language")), catalog: c.catalog}
}

// parsePages parses the chat's templates; each page and fragment is a
// named template of the set.
func (c *Chat) parsePages() (*template.Template, error) {
	funcs := template.FuncMap{
		"asset": c.assets.URL,
		"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"clock": func(t time.Time) string { return t.UTC().Format("15:04") },
	}
	t, err := template.New("chat").Funcs(funcs).ParseFS(templateFiles, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("webchat: templates: %w", err)
	}
	return t, nil
}

// render executes the named template into a buffer first, so a template
// failure becomes a clean 500 rather than half a page.
func (c *Chat) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	var buf bytes.Buffer
	if err := c.pages.ExecuteTemplate(&buf, name, v); err != nil {
		c.log.Error("render chat page", "route", r.Pattern, "template", name, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail answers a request the chat refuses: JSON with the sentence for the
// page's script, a small page for a plain browser request.
func (c *Chat) fail(w http.ResponseWriter, r *http.Request, status int, key string) {
	v := c.view(r)
	msg := v.T(key)
	if web.WantsJSON(r) {
		web.WriteJSON(w, status, map[string]string{"error": msg})
		return
	}
	v.Title, v.Error = msg, msg
	c.render(w, r, status, "chat_error", v)
}
