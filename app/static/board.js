// Keep live regions current without a reload. Every element with data-live="URL" is refetched when
// the server says the board changed (server-sent events on data-events, one stream shared by every
// page of the browser); when streaming is not possible the page polls. A region with data-parts gets the parts that changed in the stream
// itself and swaps just those (app/live/parts.py), with no fetch. Stickies that moved or are new
// flash briefly.
(function () {
  "use strict";
  // A private edit link selects itself on focus, ready to copy; its button copies it.
  document.querySelectorAll("input.copy").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.getAttribute("data-copy"));
      var status = document.getElementById(button.getAttribute("aria-describedby"));
      function done(ok) { if (status) status.textContent = ok ? "Copied." : "Select the link and copy it."; }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(function () { done(true); }, function () { done(false); });
      } else {
        input.focus(); input.select();
        try { done(document.execCommand("copy")); } catch (e) { done(false); }
      }
    });
  });
  var regions = Array.prototype.slice.call(document.querySelectorAll("[data-live]"));
  if (!regions.length) return;

  // The server's clock, as the last refresh told it: [server ms - browser ms, UTC offset in minutes].
  var clock = null, boundaryTimer = null;
  function readClock() {
    var el = document.querySelector("[data-now]");
    if (!el) return;
    clock = [Number(el.getAttribute("data-now")) - Date.now(), Number(el.getAttribute("data-utc-offset") || 0)];
    // Now and Next move at slot boundaries even when nothing on the wall changes.
    if (boundaryTimer) clearTimeout(boundaryTimer);
    var change = Number(el.getAttribute("data-next-change") || 0);
    if (change) {
      var wait = change - Number(el.getAttribute("data-now")) + 300;
      if (wait > 0 && wait < 2147483647) boundaryTimer = setTimeout(function () { window.openspacesRefresh(); }, wait);
    }
  }
  function tick() {
    if (!clock) return;
    var local = new Date(Date.now() + clock[0] + clock[1] * 60000);
    var text = ("0" + local.getUTCHours()).slice(-2) + ":" + ("0" + local.getUTCMinutes()).slice(-2);
    document.querySelectorAll("[data-clock]").forEach(function (el) {
      if (el.textContent !== text) el.textContent = text;
    });
  }
  readClock();
  setInterval(tick, 1000);
  document.addEventListener("openspaces:updated", function () { readClock(); tick(); });
  var POLL_MS = 2000, SAFETY_POLL_MS = 30000;
  var etags = {};

  function positions(root) {
    var seen = {};
    root.querySelectorAll("[data-code]").forEach(function (el) {
      if (el.closest(".slot-list")) return;  // the phone list repeats the grid's stickies
      var cell = el.closest("td");
      seen[el.getAttribute("data-code")] = cell ? cell.getAttribute("data-room") + "|" + cell.getAttribute("data-slot") : "off";
    });
    return seen;
  }

  function refreshRegion(region) {
    var url = region.getAttribute("data-live");
    var headers = { "Accept": "text/html" };
    if (etags[url]) headers["If-None-Match"] = etags[url];
    return fetch(url, { headers: headers, cache: "no-store" }).then(function (r) {
      if (r.status === 304) { fresh(); return; }
      if (!r.ok) throw new Error(r.status);
      fresh();
      etags[url] = r.headers.get("ETag");
      if (region === partsRegion && etags[url]) shown = etags[url].replace(/"/g, "");
      return r.text().then(function (html) {
        if (html === region.innerHTML) return;
        var before = positions(region);
        region.innerHTML = html;
        updated(region, before);
      });
    }).catch(function () { /* offline for a moment: the next tick tries again */ });
  }

  // The page is as the server has it now (app/static/offline.js shows the time when offline).
  function fresh() { document.dispatchEvent(new CustomEvent("openspaces:fresh")); }

  function updated(region, before) {
    var after = positions(region);
    Object.keys(after).forEach(function (code) {
      if (before[code] !== after[code]) {
        region.querySelectorAll('[data-code="' + code + '"]').forEach(function (el) { el.classList.add("fresh"); });
      }
    });
    document.dispatchEvent(new CustomEvent("openspaces:updated"));
  }

  // Swap the parts a stream's "parts" event holds; false when the page does not show the version
  // they follow, or lacks one of them: the region is fetched whole then.
  var partsRegion = regions[0].hasAttribute("data-parts") ? regions[0] : null;
  var versionEl = document.querySelector("[data-version]");
  var shown = versionEl ? versionEl.getAttribute("data-version") : null;
  // The grid's ETag is its version: the safety poll then hears 304 while nothing changed.
  if (partsRegion && shown) etags[partsRegion.getAttribute("data-live")] = '"' + shown + '"';
  function applyParts(data) {
    if (!partsRegion || data.from !== shown) return false;
    var keys = Object.keys(data.parts), targets = [];
    for (var i = 0; i < keys.length; i++) {
      var el = partsRegion.querySelector('[data-part="' + keys[i] + '"]');
      if (!el) return false;
      targets.push(el);
    }
    var before = positions(partsRegion);
    targets.forEach(function (el, k) { el.outerHTML = data.parts[keys[k]]; });
    shown = data.to;
    etags[partsRegion.getAttribute("data-live")] = '"' + data.etag + '"';
    updated(partsRegion, before);
    return true;
  }

  function refresh() { regions.forEach(refreshRegion); }
  window.openspacesRefresh = refresh;

  var pollTimer = null;
  function poll(ms) {
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = ms ? setInterval(refresh, ms) : null;
  }

  // What the browser's one stream says, through the shared worker or the leading tab.
  function heard(msg) {
    if (msg.type === "live") { poll(msg.on ? SAFETY_POLL_MS : POLL_MS); return; }
    if (msg.type !== "hello") fresh();  // a hello may be old news; the others are the server's
    if (msg.type === "hello") {
      if (shown && msg.version && msg.version !== shown) refresh();
    } else if (msg.type === "board") {
      if (!shown || msg.version !== shown) refresh();
    } else if (msg.type === "parts") {
      if (!applyParts(msg.data)) refresh();
    }
  }

  // One stream per browser, whatever the number of open pages: over HTTP/1.1 a browser opens at
  // most six connections to one host, and a stream per page left the seventh page loading for ever.
  var eventsUrl = regions[0].getAttribute("data-events");
  var link = eventsUrl && window.EventSource ? (viaWorker(eventsUrl) || viaLeader(eventsUrl)) : null;
  var joined = false;
  // A hidden page lets go of its share (and stops polling); shown again, it catches up at once.
  function present(on) {
    if (on === joined) return;
    joined = on;
    if (!on) { poll(0); if (link) link.leave(); return; }
    if (link) { link.join(); poll(SAFETY_POLL_MS); } else { poll(POLL_MS); }
  }
  document.addEventListener("visibilitychange", function () {
    present(!document.hidden);
    if (!document.hidden) refresh();
  });
  window.addEventListener("pagehide", function () { present(false); });
  window.addEventListener("pageshow", function (e) {
    if (e.persisted && !document.hidden) { present(true); refresh(); }
  });
  present(!document.hidden);

  // A SharedWorker holds the stream for every page of this browser (app/static/live-worker.js).
  function viaWorker(url) {
    var script = document.body.getAttribute("data-live-worker");
    if (!window.SharedWorker || !script) return null;
    var worker;
    try { worker = new SharedWorker(script, { name: "openspaces-live" }); } catch (e) { return null; }
    worker.port.onmessage = function (e) { heard(e.data || {}); };
    return {
      join: function () { worker.port.postMessage({ type: "join", events: url, version: shown }); },
      leave: function () { worker.port.postMessage({ type: "leave" }); }
    };
  }

  // Without SharedWorker (Chrome on Android until recently): the visible page that holds a Web
  // Lock leads, opens the stream and tells the others on a BroadcastChannel; when it is hidden or
  // closed, the lock passes to the next page that waits for it.
  function viaLeader(url) {
    if (!window.BroadcastChannel || !(navigator.locks && navigator.locks.request)) return null;
    var channel = new BroadcastChannel("openspaces-live");
    var waiting = null, release = null, source = null, known = null, live = null;
    function share(msg) {
      if (msg.type === "live") live = msg.on;
      channel.postMessage(msg);
      heard(msg);
    }
    channel.onmessage = function (e) {
      var msg = e.data || {};
      if (msg.type === "ask") {
        if (source) { channel.postMessage({ type: "hello", version: known }); channel.postMessage({ type: "live", on: !!live }); }
        return;
      }
      if (!source) heard(msg);
    };
    function lead() {
      var query = ["parts=grid"];
      if (shown) query.push("v=" + encodeURIComponent(shown));
      var quiet = !shown, opened = false;
      source = new EventSource(url + "?" + query.join("&"));
      source.addEventListener("board", function (e) {
        known = e.data;
        share({ type: quiet ? "hello" : "board", version: known });
        quiet = false;
      });
      source.addEventListener("parts", function (e) {
        var data = null;
        try { data = JSON.parse(e.data); } catch (err) { /* a bare "board" below */ }
        quiet = false;
        if (data) known = data.to;
        share(data ? { type: "parts", data: data } : { type: "board", version: known });
      });
      source.onopen = function () { opened = true; share({ type: "live", on: true }); };
      source.onerror = function () {
        // The browser reconnects by itself; a refused stream (503) closes for good: poll instead.
        if (source && source.readyState === EventSource.CLOSED && !opened) share({ type: "live", on: false });
      };
      return new Promise(function (resolve) { release = resolve; });
    }
    return {
      join: function () {
        waiting = new AbortController();
        navigator.locks.request("openspaces-live", { signal: waiting.signal }, lead).catch(function () { /* left before leading */ });
        channel.postMessage({ type: "ask" });
      },
      leave: function () {
        if (waiting) { waiting.abort(); waiting = null; }
        if (source) { source.close(); source = null; }
        if (release) { release(); release = null; }
      }
    };
  }
})();
