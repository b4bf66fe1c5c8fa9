// viewer.js is the technician's side of a screen share, loaded by the
// console's session page when the session's provider is assistbot's own.
// While the session is active and the signed-in agent is its technician,
// it opens the session's signaling socket, answers the customer's offer
// and shows the live picture with its resolution, frame rate and round
// trip. It watches the card (which console.js keeps up to date) to start
// when the session starts and to stop when it ends. Every text comes from
// the page's #viewer-config block.
(() => {
  "use strict";

  const screen = document.getElementById("screen");
  if (!screen) return;
  const cfg = JSON.parse(document.getElementById("viewer-config").textContent);
  const T = cfg.text;
  const video = document.getElementById("screen-video");
  const status = document.getElementById("screen-status");
  const stats = document.getElementById("screen-stats");
  const full = document.getElementById("screen-full");
  const me = document.body.dataset.agent || "";

  let ws = null;
  let pc = null;
  let pending = []; // candidates that came before the offer
  let want = false; // the session is active and ours to watch
  let retry = 0;
  let source = "";
  let statsTimer = 0;
  let last = null; // the previous stats sample, for the frame rate

  const say = (text) => { status.textContent = text || ""; };

  function send(m) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
  }

  function closePeer() {
    if (pc) {
      pc.ontrack = null;
      pc.onicecandidate = null;
      pc.onconnectionstatechange = null;
      pc.close();
    }
    pc = null;
    pending = [];
  }

  // clear stops the picture: the received tracks end with the connection.
  function clear() {
    closePeer();
    const s = video.srcObject;
    if (s) s.getTracks().forEach((t) => t.stop());
    video.srcObject = null;
    screen.dataset.live = "off";
    full.disabled = true;
    clearInterval(statsTimer);
    statsTimer = 0;
    last = null;
    stats.textContent = "";
  }

  function finish(text) {
    want = false;
    clear();
    if (ws) ws.close(1000);
    ws = null;
    say(text);
  }

  function live() {
    screen.dataset.live = "on";
    full.disabled = false;
    say(source === "camera" ? T.live_camera : T.live_screen);
    if (!statsTimer) statsTimer = setInterval(sample, 1000);
  }

  // sample reads the connection's statistics: the picture's size and
  // frame rate, the round trip of the pair of candidates in use, and
  // whether that pair is direct or runs through a TURN relay.
  async function sample() {
    if (!pc) return;
    const report = await pc.getStats();
    let width = 0, height = 0, frames = 0, rate, at = 0, pair = null;
    report.forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") {
        width = s.frameWidth || 0;
        height = s.frameHeight || 0;
        frames = s.framesDecoded || 0;
        rate = s.framesPerSecond;
        at = s.timestamp;
      } else if (s.type === "transport" && s.selectedCandidatePairId) {
        pair = report.get(s.selectedCandidatePairId) || pair;
      } else if (!pair && s.type === "candidate-pair" && s.state === "succeeded" && s.nominated) {
        pair = s;
      }
    });
    // The browser's own rate when it gives one; else the frames decoded
    // since the last sample.
    let fps = rate;
    if (fps === undefined) fps = last && at > last.at ? ((frames - last.frames) * 1000) / (at - last.at) : 0;
    last = { frames, at };
    if (!width) return;
    const rtt = pair && pair.currentRoundTripTime !== undefined ? Math.round(pair.currentRoundTripTime * 1000) : "–";
    let route = "";
    if (pair) {
      const local = report.get(pair.localCandidateId);
      const remote = report.get(pair.remoteCandidateId);
      route = (local ? local.candidateType : "?") + "/" + (remote ? remote.candidateType : "?");
      screen.dataset.route = route;
    }
    stats.textContent = T.stats
      .replace("{width}", width)
      .replace("{height}", height)
      .replace("{fps}", Math.round(fps))
      .replace("{rtt}", rtt) + (route ? " · " + (route.includes("relay") ? T.relayed : T.direct) : "");
  }

  async function answer(sdp) {
    closePeer();
    const p = new RTCPeerConnection({ iceServers: cfg.iceServers, iceTransportPolicy: cfg.iceTransportPolicy });
    pc = p;
    p.ontrack = (e) => {
      if (pc !== p) return;
      video.srcObject = e.streams[0] || new MediaStream([e.track]);
      e.track.addEventListener("unmute", live, { once: true });
    };
    p.onicecandidate = (e) => {
      if (pc === p && e.candidate && e.candidate.candidate) send(Object.assign({ type: "candidate" }, e.candidate.toJSON()));
    };
    p.onconnectionstatechange = () => {
      if (pc !== p) return;
      if (p.connectionState === "connected") live();
      else if (p.connectionState === "failed") {
        // Ask the customer's page for a fresh offer.
        say(T.connecting);
        send({ type: "ready" });
      }
    };
    await p.setRemoteDescription({ type: "offer", sdp });
    const list = pending;
    pending = [];
    for (const c of list) await p.addIceCandidate(c).catch(() => {});
    const a = await p.createAnswer();
    if (pc !== p) return;
    await p.setLocalDescription(a);
    send({ type: "answer", sdp: p.localDescription.sdp });
  }

  async function onMessage(m) {
    switch (m.type) {
      case "welcome":
        retry = 0;
        source = m.sharing || "";
        say(!m.peer ? T.waiting : source ? T.connecting : T.waiting);
        break;
      case "peer":
        if (m.state === "away") say(T.away);
        else if (m.state === "gone") { clear(); say(T.gone); }
        else say(source ? T.connecting : T.waiting);
        break;
      case "share-started":
        source = m.source;
        say(T.connecting);
        break;
      case "share-stopped":
        source = "";
        clear();
        say(T.stopped);
        break;
      case "declined":
        say(T[m.reason] || T.declined);
        break;
      case "offer":
        await answer(m.sdp);
        break;
      case "candidate": {
        const c = { candidate: m.candidate, sdpMid: m.sdpMid, sdpMLineIndex: m.sdpMLineIndex, usernameFragment: m.usernameFragment };
        if (pc && pc.remoteDescription) await pc.addIceCandidate(c).catch(() => {});
        else pending.push(c);
        break;
      }
      case "bye":
        if (m.reason === "signed_out") location.href = "/console/login";
        else if (m.reason === "replaced") finish(T.replaced);
        else if (m.reason !== "shutdown") finish(T.ended);
        break;
    }
  }

  function connect() {
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + screen.dataset.signal;
    const s = new WebSocket(url);
    ws = s;
    s.onopen = () => {
      if (ws !== s) return;
      // Ask for an offer: the customer may be sharing already.
      send({ type: "ready" });
    };
    s.onmessage = (e) => {
      let m;
      try { m = JSON.parse(e.data); } catch (_) { return; }
      onMessage(m).catch((err) => console.error("viewer:", err));
    };
    s.onclose = () => {
      if (ws !== s) return;
      ws = null;
      if (!want) return;
      say(T.reconnecting);
      setTimeout(() => { if (want && !ws) connect(); }, Math.min(1000 * 2 ** retry++, 8000));
    };
  }

  // check starts or stops watching as the card says the session is
  // active or not.
  function check() {
    const card = document.querySelector("#card .card-view");
    if (!card) return;
    const active = card.dataset.state === "active" && card.hasAttribute("data-viewable");
    if (active || want) screen.hidden = false;
    if (active && card.dataset.technician !== me) {
      // Someone else watches (Watch here on the card takes over).
      if (want) finish(T.forbidden);
      screen.dataset.live = "off";
      say(T.forbidden);
      return;
    }
    if (active && !want) {
      want = true;
      say(T.waiting);
      connect();
    } else if (!active && want) {
      finish(T.ended);
    }
  }

  full.addEventListener("click", () => {
    if (video.requestFullscreen) video.requestFullscreen().catch(() => {});
  });
  new MutationObserver(check).observe(document.getElementById("card"), { childList: true, subtree: true });
  check();
})();
