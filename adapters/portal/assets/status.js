// status.js follows the session of a customer's page that has no socket
// of its own (waiting for the technician, a session under a provider's
// own program): it asks the server every few seconds which phase the
// session is in and loads the page afresh when that changed, so the page
// never says what stopped being true. Without script the page's
// <noscript> refresh does the same, less gently. Its addresses come from
// the page's #follow block.
(() => {
  "use strict";

  const cfg = JSON.parse(document.getElementById("follow").textContent);
  const base = 2000;
  let delay = base;

  function schedule() {
    // A hidden tab asks less often; it catches up when shown.
    setTimeout(check, document.hidden ? Math.max(delay, 10000) : delay);
  }

  function check() {
    fetch(cfg.state, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then((r) => {
        // Not found: this browser no longer holds the session (it moved
        // to another device); the page says so.
        if (r.status === 404) return { phase: "" };
        if (!r.ok) throw new Error(String(r.status));
        return r.json();
      })
      .then((j) => {
        delay = base;
        if (j.phase !== cfg.phase) {
          location.replace(cfg.page);
          return;
        }
        schedule();
      })
      .catch(() => {
        delay = Math.min(delay * 2, 15000);
        schedule();
      });
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) delay = base;
  });
  schedule();
})();
