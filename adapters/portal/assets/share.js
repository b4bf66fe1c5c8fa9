// share.js is the customer's side of a screen share, loaded by the status
// page of a session the technician is viewing. It asks the customer to
// share their screen (their camera on a phone, or where the browser cannot
// share a screen), sends the picture to the technician's console browser
// to browser over WebRTC, and keeps the page honest about what is shared:
// an indicator while sharing, a Stop button, and what became of it. The
// signaling socket relays offers, answers and candidates through
// assistbot; media never passes through the server. The page's status
// line always says what is true: the technician is ready but sees nothing
// yet, the customer shares, shares nothing now, or the session ended (and
// then the share's prompt is gone). Every text comes from the page's
// #share-config block.
(() => {
  "use strict";

  const cfg = JSON.parse(document.getElementById("share-config").textContent);
  const T = cfg.text;
  const $ = (id) => document.getElementById(id);
  const section = $("share");
  const startBtn = $("share-start");
  const stopBtn = $("share-stop");
  const declineBtn = $("share-decline");
  const note = $("share-note");
  const indicator = $("share-indicator");
  const indicatorText = $("share-indicator-text");
  const preview = $("share-preview");
  const explain = $("share-explain");
  const title = $("share-h");
  const status = $("status");

  const media = navigator.mediaDevices;
  const canScreen = !!(media && media.getDisplayMedia);
  const canCamera = !!(media && media.getUserMedia);
  // A phone cannot share its screen from a browser: it offers the rear
  // camera, and so does any browser without screen sharing.
  const useCamera = cfg.camera || !canScreen;
  // resumeMs is the server's resume window: a page away longer has left.
  const resumeMs = 30000;

  let ws = null;
  let pc = null;
  let pending = []; // candidates that came before the answer
  let stream = null;
  let source = "";
  let technician = false;
  let finished = false;
  let retry = 0;
  let lostAt = 0;
  let told = false; // the page has told the server it cannot share
  // refusal is a refusal not sent yet, the socket being closed when it was
  // made (before it first opened, or while it reconnects): the next
  // welcome sends it, so that the technician and the log hear of it.
  let refusal = null;

  const say = (text) => { note.textContent = text || ""; };
  const setState = (s) => { section.dataset.state = s; };
  // tell puts what is true now in the page's status line.
  const tell = (text) => { if (status) status.textContent = text; };

  // send sends m when the socket is open, and says whether it did.
  function send(m) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(m));
    return true;
  }

  // refuse tells the server the customer does not share, now or at the
  // next welcome.
  function refuse(reason) {
    const m = { type: "declined", reason };
    refusal = send(m) ? null : m;
  }

  function showIdle() {
    indicator.hidden = true;
    preview.hidden = true;
    stopBtn.hidden = true;
    startBtn.hidden = false;
    declineBtn.hidden = false;
  }

  function showSharing() {
    indicatorText.textContent = source === "camera" ? T.sharing_camera : T.sharing_screen;
    tell(indicatorText.textContent);
    indicator.hidden = false;
    stopBtn.hidden = false;
    startBtn.hidden = true;
    declineBtn.hidden = true;
    preview.srcObject = stream;
    preview.hidden = false;
  }

  function cannotShare() {
    startBtn.hidden = true;
    declineBtn.hidden = true;
    tell(T.not_sharing);
    setState("unavailable");
    say(T.unavailable);
    if (!told) {
      told = true;
      refuse("unavailable");
    }
  }

  async function start() {
    if (!canScreen && !canCamera) {
      cannotShare();
      return;
    }
    startBtn.disabled = true;
    let s;
    try {
      if (useCamera) {
        s = await media.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false });
        source = "camera";
      } else {
        s = await media.getDisplayMedia({ video: true, audio: false });
        source = "screen";
      }
    } catch (e) {
      startBtn.disabled = false;
      const denied = e && (e.name === "NotAllowedError" || e.name === "SecurityError");
      refuse(denied ? "denied" : "unavailable");
      if (!stream) tell(T.not_sharing);
      setState(denied ? "denied" : "unavailable");
      say(denied ? T.denied : T.unavailable);
      return;
    }
    startBtn.disabled = false;
    if (finished) {
      s.getTracks().forEach((t) => t.stop());
      return;
    }
    stream = s;
    refusal = null; // the customer shares after all
    for (const t of stream.getTracks()) {
      // Text on a screen should stay sharp rather than smooth.
      if (source === "screen" && "contentHint" in t) t.contentHint = "detail";
      // The browser's own "Stop sharing" bar ends the track.
      t.addEventListener("ended", () => stop(T.stopped), { once: true });
    }
    setState("sharing");
    showSharing();
    say(technician ? "" : T.waiting_technician);
    send({ type: "share-started", source });
    if (technician) negotiate();
  }

  function stopTracks() {
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
    preview.srcObject = null;
  }

  function closePeer() {
    if (!pc) return;
    pc.onicecandidate = null;
    pc.close();
    pc = null;
    pending = [];
  }

  // stop ends the share: the tracks stop (the browser's own indicator
  // goes), the technician is told, and the page offers to share again.
  function stop(text) {
    if (!stream) return;
    stopTracks();
    closePeer();
    send({ type: "share-stopped" });
    source = "";
    if (!finished) {
      setState("stopped");
      showIdle();
      tell(T.not_sharing);
    }
    say(text);
  }

  // negotiate offers the shared tracks to the technician on a fresh
  // connection: after the share starts, and whenever the technician's
  // page asks (it connected, came back, or lost the picture).
  async function negotiate() {
    if (!stream || !technician) return;
    closePeer();
    const p = new RTCPeerConnection({ iceServers: cfg.iceServers, iceTransportPolicy: cfg.iceTransportPolicy });
    pc = p;
    for (const t of stream.getTracks()) p.addTrack(t, stream);
    p.onicecandidate = (e) => {
      if (pc === p && e.candidate && e.candidate.candidate) send(Object.assign({ type: "candidate" }, e.candidate.toJSON()));
    };
    // A failed connection is started again by the technician's page,
    // which asks for a fresh offer: one side drives, so two offers never
    // cross.
    const offer = await p.createOffer();
    if (pc !== p) return;
    await p.setLocalDescription(offer);
    send({ type: "offer", sdp: p.localDescription.sdp });
  }

  // finish ends the page's part: the session ended, or went on elsewhere.
  // Nothing of the share's prompt stays: no title, no explanation, no
  // button; only what happened.
  function finish(reason) {
    const wasSharing = !!stream;
    finished = true;
    stopTracks();
    closePeer();
    source = "";
    startBtn.hidden = stopBtn.hidden = declineBtn.hidden = true;
    if ($("handoff")) $("handoff").hidden = true;
    title.hidden = explain.hidden = true;
    indicator.hidden = true;
    preview.hidden = true;
    const replaced = reason === "replaced";
    setState(replaced ? "replaced" : "ended");
    tell(replaced ? T.replaced : T.session_ended);
    say(replaced ? "" : (wasSharing ? T.ended : ""));
    if (ws) ws.close(1000);
    ws = null;
    // The status page then says how the session ended.
    if (!replaced) setTimeout(() => location.reload(), 4000);
  }

  async function onMessage(m) {
    switch (m.type) {
      case "welcome":
        retry = 0;
        lostAt = 0;
        technician = !!m.peer;
        if (!canScreen && !canCamera) cannotShare();
        if (stream) {
          if (m.sharing !== source) send({ type: "share-started", source });
          say(technician ? "" : T.waiting_technician);
          if (technician) negotiate();
        } else {
          // A stop or a refusal made while the socket was closed.
          if (m.sharing) send({ type: "share-stopped" });
          if (refusal && send(refusal)) refusal = null;
          if (section.dataset.state !== "unavailable") say("");
        }
        break;
      case "peer":
        if (m.role !== "technician") break;
        if (m.state === "joined" || m.state === "back") {
          technician = true;
          if (stream) say("");
        } else if (m.state === "gone") {
          technician = false;
          closePeer();
          stop(T.technician_left);
        }
        break;
      case "ready":
        // The technician's page is listening: offer what is shared.
        technician = true;
        if (stream) negotiate();
        break;
      case "answer":
        if (pc && pc.signalingState === "have-local-offer") {
          await pc.setRemoteDescription({ type: "answer", sdp: m.sdp });
          const list = pending;
          pending = [];
          for (const c of list) await pc.addIceCandidate(c).catch(() => {});
        }
        break;
      case "candidate": {
        const c = { candidate: m.candidate, sdpMid: m.sdpMid, sdpMLineIndex: m.sdpMLineIndex, usernameFragment: m.usernameFragment };
        if (pc && pc.remoteDescription) await pc.addIceCandidate(c).catch(() => {});
        else if (pc) pending.push(c);
        break;
      }
      case "bye":
        // A server shutting down is not the session's end: the socket
        // closes and the page reconnects.
        if (m.reason !== "shutdown") finish(m.reason);
        break;
    }
  }

  function connect() {
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + cfg.signal;
    const s = new WebSocket(url);
    ws = s;
    s.onmessage = (e) => {
      let m;
      try { m = JSON.parse(e.data); } catch (_) { return; }
      onMessage(m).catch((err) => console.error("share:", err));
    };
    s.onclose = () => {
      if (ws !== s || finished) return;
      ws = null;
      if (!lostAt) lostAt = Date.now();
      say(T.reconnecting);
      const delay = Math.min(1000 * 2 ** retry++, 8000);
      if (Date.now() - lostAt + delay > resumeMs) {
        // Too long away: the server has given the place up. The page
        // reloads and shows where the session stands now.
        setTimeout(() => location.reload(), delay);
        return;
      }
      setTimeout(connect, delay);
    };
  }

  if (useCamera) {
    startBtn.textContent = T.start_camera;
    explain.textContent = T.explain_camera;
    tell(T.ready_camera);
  }
  startBtn.addEventListener("click", () => { start(); });
  stopBtn.addEventListener("click", () => stop(T.stopped));
  declineBtn.addEventListener("click", () => {
    refuse("declined");
    if (!stream) tell(T.not_sharing);
    setState("declined");
    say(T.declined);
    declineBtn.hidden = true;
  });
  // Leaving the page ends the share; saying so at once lets the log show
  // when, instead of the resume window's end.
  window.addEventListener("pagehide", () => {
    if (stream) send({ type: "share-stopped" });
  });
  // Moving to another device: the link in the page works for 10 minutes;
  // opened later than halfway through, it is fetched afresh.
  const handoff = $("handoff");
  let handoffAt = Date.now();
  if (handoff) {
    handoff.addEventListener("toggle", () => {
      if (!handoff.open || Date.now() - handoffAt < 5 * 60000) return;
      fetch(cfg.handoff, { credentials: "same-origin" })
        .then((r) => (r.ok ? r.text() : Promise.reject(new Error(String(r.status)))))
        .then((html) => {
          $("handoff-part").innerHTML = html;
          handoffAt = Date.now();
        })
        .catch(() => { /* the link rendered with the page still works for a while */ });
    });
  }
  showIdle();
  connect();
})();
