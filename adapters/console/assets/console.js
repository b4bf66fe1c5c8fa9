// The technician console's script. The pages work without it (every
// button is a form); it adds what a console needs to be live: regions that
// reload when the server-sent events say something changed, the sound and
// the notification when a customer starts waiting, the remote-session
// dialog, and forms sent in the background. Every text it shows comes
// from the page's #strings block, which the server fills from the catalog.
(function () {
  "use strict";

  var body = document.body;
  var csrf = body.dataset.csrf || "";
  var agent = body.dataset.agent || "";
  var S = JSON.parse((document.getElementById("strings") || {}).textContent || "{}");
  var lang = document.documentElement.lang || undefined;

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  // Messages for the agent, in the page's alert region.
  var flashTimer = 0;
  function flash(text) {
    var f = $("#flash");
    if (!f) return;
    f.textContent = text;
    f.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(function () { f.hidden = true; }, 8000);
  }

  // request fetches a console URL with the sign-in's CSRF token. A 401
  // means the sign-in ended: the agent is sent to sign in again.
  function request(url, opts) {
    opts = opts || {};
    opts.credentials = "same-origin";
    opts.headers = { "X-CSRF-Token": csrf, "Accept": opts.json ? "application/json" : "text/html" };
    return fetch(url, opts).then(function (r) {
      if (r.status === 401) {
        location.href = "/console/login";
        throw new Error("signed out");
      }
      return r;
    });
  }

  // ---- Times: ages ("4 min") and clock times in the agent's zone.

  function age(iso) {
    var ms = Date.now() - Date.parse(iso);
    if (!(ms >= 60000)) return S.age_now;
    if (ms < 3600000) return S.age_minutes.replace("{n}", Math.floor(ms / 60000));
    if (ms < 172800000) return S.age_hours.replace("{n}", Math.floor(ms / 3600000));
    return S.age_days.replace("{n}", Math.floor(ms / 86400000));
  }

  // The server writes times in UTC and says so ("09:00 UTC"); shown
  // here, every time on the screen is in the agent's own zone: one zone
  // per screen, and the expiry says it is theirs.
  function clockOf(t, seconds) {
    var d = new Date(t.getAttribute("datetime"));
    if (isNaN(d)) return "";
    var o = { hour: "2-digit", minute: "2-digit" };
    if (seconds) o.second = "2-digit";
    t.title = d.toLocaleString(lang, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
    return d.toLocaleTimeString(lang, o);
  }
  function decorate(root) {
    $$("time[data-age]", root).forEach(function (t) { t.textContent = age(t.getAttribute("datetime")); });
    $$("time[data-clock]", root).forEach(function (t) {
      var text = clockOf(t, t.dataset.clock === "seconds");
      if (text) t.textContent = text;
    });
    $$("time[data-expires]", root).forEach(function (t) {
      var text = clockOf(t, false);
      if (text && S.expires_local) t.textContent = S.expires_local.replace("{time}", text);
    });
    $$("th[data-zone]", root).forEach(function (th) { th.textContent = th.dataset.zone; });
    $$("[data-conversation]", root).forEach(function (li) {
      if (li.tagName === "LI") li.classList.toggle("fresh", fresh().indexOf(li.dataset.conversation) >= 0);
    });
  }
  setInterval(function () { decorate(document); }, 30000);

  // Conversations with a customer message the agent has not opened yet,
  // kept for the browser tab.
  function fresh() {
    try { return JSON.parse(sessionStorage.getItem("assistbot.fresh") || "[]"); } catch (e) { return []; }
  }
  function setFresh(list) {
    try { sessionStorage.setItem("assistbot.fresh", JSON.stringify(list.slice(-100))); } catch (e) { /* private mode */ }
  }

  // ---- Regions: parts of the page that reload from their data-region URL.

  // A region about to reload, or reloading, is aria-busy until its new
  // content is in: assistive technology waits for it, and so can a test.
  var pending = [];
  var pendingTimer = 0;
  var loading = new Map(); // section → reloads under way
  function busy(el, delta) {
    var n = (loading.get(el) || 0) + delta;
    if (n > 0) {
      loading.set(el, n);
      el.setAttribute("aria-busy", "true");
    } else {
      loading.delete(el);
      el.removeAttribute("aria-busy");
    }
  }
  function schedule(section) {
    if (pending.indexOf(section) < 0) {
      pending.push(section);
      busy(section, 1);
    }
    if (!pendingTimer) pendingTimer = setTimeout(flushRegions, 100);
  }
  function flushRegions() {
    pendingTimer = 0;
    var list = pending;
    pending = [];
    list.forEach(function (section) {
      request(section.dataset.region).then(function (r) {
        if (!r.ok) throw new Error(String(r.status));
        return r.text();
      }).then(function (html) {
        return swap($(".region", section), html);
      }).catch(function () { /* the next event or resync tries again */ }).then(function () {
        busy(section, -1);
      });
    });
  }

  var shown = new WeakMap(); // region → the HTML it shows

  // A press of the pointer goes on until its click: content under it is
  // replaced only after, so that the click lands on the control that was
  // pressed, not on nothing.
  var pressed = null;
  var afterPress = [];
  document.addEventListener("pointerdown", function (e) { pressed = e.target; }, true);
  function released() {
    if (!pressed) return;
    pressed = null;
    // The click follows pointerup in the same task: swap after it.
    setTimeout(function () {
      var list = afterPress;
      afterPress = [];
      list.forEach(function (f) { f(); });
    }, 0);
  }
  document.addEventListener("pointerup", released, true);
  document.addEventListener("pointercancel", released, true);
  function whenReleased(region) {
    if (!pressed || !region.contains(pressed)) return Promise.resolve();
    // A press that never ends (the pointer left the window) holds the
    // region back for a moment at most.
    return new Promise(function (resolve) {
      afterPress.push(resolve);
      setTimeout(resolve, 2000);
    });
  }

  // swap replaces a region's content, keeping the keyboard focus on the
  // same control when it is still there.
  function swap(region, html) {
    // An unchanged answer leaves the region alone: nothing flickers and
    // no control under the pointer or the keyboard is replaced.
    if (!region || shown.get(region) === html) return Promise.resolve();
    return whenReleased(region).then(function () { replace(region, html); });
  }
  function replace(region, html) {
    if (shown.get(region) === html) return;
    shown.set(region, html);
    var active = document.activeElement;
    var key = null;
    if (active && active !== document.body && region.contains(active)) {
      var scope = active.closest("[data-session],[data-conversation]");
      key = {
        scope: scope ? scope.dataset.session || scope.dataset.conversation : "",
        tag: active.tagName,
        value: active.value || active.getAttribute("href") || active.textContent
      };
    }
    region.innerHTML = html;
    decorate(region);
    if (!key) return;
    $$(key.tag, region).some(function (el) {
      var scope = el.closest("[data-session],[data-conversation]");
      var s = scope ? scope.dataset.session || scope.dataset.conversation : "";
      if (s === key.scope && (el.value || el.getAttribute("href") || el.textContent) === key.value) {
        el.focus();
        return true;
      }
      return false;
    });
  }

  function refreshFor(u) {
    $$("[data-region]").forEach(function (section) {
      var w = section.dataset.watch;
      if (w === "*" || w === u.session_id || w === u.conversation_id) schedule(section);
    });
    if (dialogSession && u.session_id === dialogSession) loadDialog(dialogSession);
  }
  function refreshAll() {
    $$("[data-region]").forEach(schedule);
    if (dialogSession) loadDialog(dialogSession);
  }

  // ---- The waiting sound (Web Audio, no file) and its mute switch,
  // remembered per agent in this browser.

  var muteKey = "assistbot.console.muted." + agent;
  function muted() {
    try { return localStorage.getItem(muteKey) === "1"; } catch (e) { return false; }
  }
  var soundButton = $("#sound");
  function showSound() {
    soundButton.textContent = muted() ? S.sound_off : S.sound_on;
    soundButton.hidden = false;
  }
  var audio = null;
  function audioContext() {
    var AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return null;
    if (!audio) audio = new AC();
    if (audio.state === "suspended" && audio.resume) audio.resume().catch(function () {});
    return audio;
  }
  // Browsers let a page play sound once the person has interacted with
  // it: the first click or key unlocks the audio for later alerts.
  ["pointerdown", "keydown"].forEach(function (type) {
    document.addEventListener(type, audioContext, { once: true, capture: true });
  });
  function chime() {
    if (muted()) return;
    var ac = audioContext();
    if (!ac) return;
    var t = ac.currentTime;
    [[880, 0], [1318.5, 0.16]].forEach(function (tone) {
      var osc = ac.createOscillator();
      var gain = ac.createGain();
      osc.type = "sine";
      osc.frequency.value = tone[0];
      gain.gain.setValueAtTime(0.0001, t + tone[1]);
      gain.gain.exponentialRampToValueAtTime(0.25, t + tone[1] + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + tone[1] + 0.4);
      osc.connect(gain);
      gain.connect(ac.destination);
      osc.start(t + tone[1]);
      osc.stop(t + tone[1] + 0.45);
    });
  }
  if (soundButton) {
    showSound();
    soundButton.addEventListener("click", function () {
      try { localStorage.setItem(muteKey, muted() ? "0" : "1"); } catch (e) { /* private mode */ }
      showSound();
      chime();
    });
  }

  // ---- Browser notifications, once the agent allowed them.

  var notifyButton = $("#notify");
  if (notifyButton && "Notification" in window && Notification.permission === "default") {
    notifyButton.hidden = false;
    notifyButton.addEventListener("click", function () {
      Notification.requestPermission().then(function () {
        notifyButton.hidden = Notification.permission !== "default";
      });
    });
  }
  function notify(text, session) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    try {
      var n = new Notification(S.notify_title, { body: text, tag: "assistbot-" + session });
      n.onclick = function () {
        window.focus();
        location.href = "/console/sessions/" + encodeURIComponent(session);
        n.close();
      };
    } catch (e) { /* some browsers only notify from a service worker */ }
  }

  // ---- Live updates.

  var live = $("#live");
  var lost = false;
  function connect() {
    var es = new EventSource("/console/events");
    es.addEventListener("update", function (e) {
      var u = JSON.parse(e.data);
      if (u.alert) {
        chime();
        notify(u.alert, u.session_id);
      }
      if (u.kind === "message" && u.direction === "in" && u.conversation_id !== currentConversation) {
        var f = fresh();
        if (f.indexOf(u.conversation_id) < 0) f.push(u.conversation_id);
        setFresh(f);
      }
      refreshFor(u);
    });
    // The server's subscription fell behind and was dropped: what the
    // page shows may have missed updates, so all of it reloads.
    es.addEventListener("resync", refreshAll);
    es.addEventListener("signout", function () {
      es.close();
      location.href = "/console/login";
    });
    es.onopen = function () {
      if (lost) refreshAll();
      lost = false;
      body.dataset.live = "on";
      if (live) live.hidden = true;
    };
    es.onerror = function () {
      lost = true;
      body.dataset.live = "off";
      if (live) live.hidden = false;
      // A closed stream after a restart means the sign-in is gone; the
      // probe's 401 sends the agent to sign in.
      if (es.readyState === EventSource.CLOSED) {
        request("/console/queue").then(function () { setTimeout(connect, 3000); }, function () {});
      }
    };
  }

  // ---- Forms sent in the background.

  function randomID() {
    var a = new Uint8Array(12);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.hasAttribute("data-fetch")) return;
    e.preventDefault();
    var data = new URLSearchParams(new FormData(form));
    if (e.submitter && e.submitter.name) data.set(e.submitter.name, e.submitter.value);
    data.delete("csrf");
    if (form.hasAttribute("data-reset")) {
      // A reply keeps its id until it is sent: sent again after an answer
      // that never came, it is recorded once.
      var text = data.get("text");
      if (!form.draft || form.draft.text !== text) form.draft = { text: text, id: randomID() };
      data.set("id", form.draft.id);
    }
    var buttons = $$("button", form);
    // A start whose answer carries the technician's link (MeshCentral)
    // opens it in a tab of its own. The tab is opened now, in the
    // click, which popup blockers allow, and sent to the link once the
    // answer comes; it cannot reach back to the console.
    var tab = null;
    if (e.submitter && e.submitter.hasAttribute("data-opens")) {
      tab = window.open("", "_blank");
      if (tab) tab.opener = null;
    }
    function openLink(link) {
      if (!tab) return;
      if (link) tab.location.replace(link);
      else tab.close();
      tab = null;
    }
    // Disabling the focused button takes the keyboard focus away; it
    // comes back once the buttons are enabled again.
    var focused = document.activeElement;
    buttons.forEach(function (b) { b.disabled = true; });
    request(form.getAttribute("action"), { method: "POST", body: data, json: true }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        openLink(r.ok && j.open);
        if (!r.ok) {
          flash(j.error || S.error);
          return;
        }
        if (form.hasAttribute("data-reset")) {
          form.draft = null;
          form.reset();
        }
        if (form.dataset.then) {
          location.href = form.dataset.then;
          return;
        }
        if (form.hasAttribute("data-dialog") && j.session) openDialog(j.session);
        if (j.dismissed && dialog && dialog.open) dialog.close();
        refreshAll();
      });
    }).catch(function (err) {
      openLink("");
      if (err.message !== "signed out") flash(S.error);
    }).then(function () {
      buttons.forEach(function (b) { b.disabled = false; });
      var now = document.activeElement;
      if (buttons.indexOf(focused) >= 0 && focused.isConnected && (!now || now === body)) focused.focus();
    });
  });

  // Enter sends a reply, Shift+Enter starts a new line; an input method
  // that is composing (Korean, Japanese) keeps its Enter.
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.key !== "Enter" || e.shiftKey || e.isComposing || t.tagName !== "TEXTAREA") return;
    var form = t.form;
    if (!form || !form.hasAttribute("data-fetch")) return;
    e.preventDefault();
    if (t.value.trim() !== "") form.requestSubmit();
  });

  document.addEventListener("click", function (e) {
    var b = e.target.closest("button.copy");
    if (!b || !navigator.clipboard) return;
    navigator.clipboard.writeText(b.dataset.copy).then(function () { flash(S.copied); }, function () { flash(S.error); });
  });

  // ---- The remote-session dialog of a conversation.

  var dialog = $("#remote-dialog");
  var dialogSession = "";
  function loadDialog(id) {
    var url = "/console/sessions/" + encodeURIComponent(id) + "/card?dialog=1&return=" + encodeURIComponent(location.pathname);
    var body = $("#dialog-body");
    busy(body, 1);
    return request(url).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      return r.text();
    }).then(function (html) {
      return swap(body, html);
    }).finally(function () {
      busy(body, -1);
    });
  }
  function openDialog(id) {
    if (!dialog) return;
    dialogSession = id;
    loadDialog(id).then(function () {
      if (!dialog.open) dialog.showModal();
      var first = $("button.primary", dialog) || $("button", dialog);
      if (first) first.focus();
    }).catch(function () { flash(S.error); });
  }
  if (dialog) dialog.addEventListener("close", function () { dialogSession = ""; });

  // ---- Start.

  var conv = $("#conversation");
  var currentConversation = conv ? conv.dataset.conversation : "";
  if (currentConversation) {
    setFresh(fresh().filter(function (id) { return id !== currentConversation; }));
  }
  decorate(document);
  connect();
})();
