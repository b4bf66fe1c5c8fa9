package webchat

import (
	"encoding/json"
	"net/http"
	"strings"
)

// widgetSource is the embeddable snippet: a "Chat with support" link
// fixed to the corner of the host page, opening the chat in a new tab.
// The chat runs on assistbot's own origin rather than in a frame of the
// host page, so its cookie is first-party and survives browsers that
// block third-party cookies. %s is the JSON configuration.
const widgetSource = `/* assistbot web chat: <script src=".../chat/widget.js" async></script> */
(function () {
  "use strict";
  var c = %s;
  function add() {
    if (document.getElementById("assistbot-chat")) return;
    var a = document.createElement("a");
    a.id = "assistbot-chat";
    a.href = c.url;
    a.target = "_blank";
    a.rel = "noopener";
    a.textContent = c.label;
    a.setAttribute("aria-label", c.title);
    var s = a.style;
    s.position = "fixed"; s.right = "1rem"; s.bottom = "1rem"; s.zIndex = "2147483000";
    s.padding = "0.75rem 1.25rem"; s.borderRadius = "2rem"; s.background = "#1f5fc9"; s.color = "#fff";
    s.font = "600 1rem/1.2 system-ui, sans-serif"; s.textDecoration = "none";
    s.boxShadow = "0 2px 8px rgba(0,0,0,.25)";
    document.body.appendChild(a);
  }
  if (document.body) add(); else document.addEventListener("DOMContentLoaded", add);
})();
`

// handleWidget serves the snippet in the visitor's language.
func (c *Chat) handleWidget(w http.ResponseWriter, r *http.Request) {
	lang := c.catalog.Match(r.Header.Get("Accept-Language"))
	cfg, err := json.Marshal(map[string]string{
		"url":   c.publicURL + "/chat",
		"label": c.catalog.T(lang, "console.widget.label"),
		"title": c.catalog.T(lang, "console.widget.title"),
	})
	if err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Vary", "Accept-Language")
	h.Set("X-Content-Type-Options", "nosniff")
	// Host pages load it across origins; the script itself is public.
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	// json.Marshal escapes <, > and & in strings, so nothing in the
	// configuration can end a script element.
	_, _ = w.Write([]byte(strings.Replace(widgetSource, "%s", string(cfg), 1)))
}
