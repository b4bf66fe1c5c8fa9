// The customer chat's script. The page works without it (the form posts
// and the page reloads); it sends messages in the background and reloads
// the transcript when the server-sent events say the support team wrote,
// sent a link, or started the session. Its texts come from the page's
// #strings block.
(function () {
  "use strict";

  var csrf = document.body.dataset.csrf || "";
  var S = JSON.parse((document.getElementById("strings") || {}).textContent || "{}");
  var lang = document.documentElement.lang || undefined;
  var region = document.querySelector("#transcript .region");
  var box = document.getElementById("transcript");
  var form = document.getElementById("compose");

  function flash(text) {
    var f = document.getElementById("flash");
    f.textContent = text;
    f.hidden = !text;
  }

  function localize(root) {
    Array.prototype.forEach.call(root.querySelectorAll("time[data-clock]"), function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) t.textContent = d.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
    });
  }

  function toBottom() { box.scrollTop = box.scrollHeight; }

  // load reloads the transcript. Its answer also carries a current CSRF
  // token, which replaces one from before a restart of the server.
  var loading = null;
  var again = false;
  function load() {
    if (loading) {
      again = true;
      return loading;
    }
    loading = fetch("/chat/transcript", { credentials: "same-origin", headers: { "X-CSRF-Token": csrf } }).then(function (r) {
      var t = r.headers.get("X-CSRF-Token");
      if (t) csrf = t;
      if (!r.ok) throw new Error(String(r.status));
      return r.text();
    }).then(function (html) {
      var atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
      region.innerHTML = html;
      localize(region);
      if (atBottom) toBottom();
    }).catch(function () { /* the next event tries again */ }).then(function () {
      loading = null;
      if (again) {
        again = false;
        load();
      }
    });
    return loading;
  }

  function randomID() {
    var a = new Uint8Array(12);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // send posts the message; a token that no longer verifies (the server
  // restarted) is refreshed and the message sent once more, under the
  // same id, so it is never recorded twice.
  function send(data, retried) {
    return fetch(form.getAttribute("action"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Accept": "application/json" },
      body: data
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (r.status === 403 && !retried) return load().then(function () { return send(data, true); });
        if (!r.ok) {
          var err = new Error("refused");
          err.text = j.error; // the server's sentence, in the page's language
          throw err;
        }
        return j;
      });
    });
  }

  // A message keeps its id until it is sent: pressed again after an
  // answer that never came (the network dropped it), it is the same
  // message, which the server records once.
  var draft = { text: null, id: null };
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var data = new URLSearchParams(new FormData(form));
    data.delete("csrf");
    if (draft.text !== data.get("text")) draft = { text: data.get("text"), id: randomID() };
    data.set("id", draft.id);
    var button = form.querySelector("button");
    button.disabled = true;
    send(data, false).then(function () {
      draft = { text: null, id: null };
      flash("");
      form.reset();
      var name = document.getElementById("chat-name");
      if (name) {
        name.previousElementSibling.remove();
        name.remove();
      }
      return load().then(toBottom);
    }).catch(function (err) {
      flash(err.text || S.error);
    }).then(function () {
      button.disabled = false;
      document.getElementById("chat-text").focus();
    });
  });

  // Enter sends, Shift+Enter starts a new line; an input method that is
  // composing (Korean, Japanese) keeps its Enter.
  document.getElementById("chat-text").addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || e.shiftKey || e.isComposing) return;
    e.preventDefault();
    if (e.target.value.trim() !== "") form.requestSubmit();
  });

  // The page listens to the server's events while it may; when it may
  // not (a newer page of this browser or network took its place, or the
  // server has as many listeners as it takes), it reloads its transcript
  // every little while instead, so nothing the agent writes is missed.
  var live = document.getElementById("live");
  var lost = false;
  var es = null;
  var poll = null;
  function startPolling() {
    if (!poll) poll = setInterval(load, 15000);
  }
  function stopPolling() {
    if (poll) clearInterval(poll);
    poll = null;
  }
  function listen() {
    if (es) return;
    var s = new EventSource("/chat/events");
    es = s;
    s.addEventListener("refresh", load);
    s.addEventListener("superseded", function () {
      s.close();
      es = null;
      document.body.dataset.live = "polling";
      live.hidden = true;
      startPolling();
    });
    s.onopen = function () {
      // What happened since the page was made, or while the stream was
      // down, came with no event to this page: read it now.
      load();
      lost = false;
      stopPolling();
      document.body.dataset.live = "on";
      live.hidden = true;
    };
    s.onerror = function () {
      lost = true;
      if (s.readyState === EventSource.CLOSED) {
        // Refused rather than dropped: no reconnecting on its own.
        es = null;
        document.body.dataset.live = "polling";
        live.hidden = true;
        startPolling();
        setTimeout(listen, 30000);
        return;
      }
      document.body.dataset.live = "off";
      live.hidden = false;
    };
  }
  // A page shown again is the one the customer looks at: it listens.
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !es) {
      load();
      listen();
    }
  });
  listen();

  localize(document);
  toBottom();
})();
