// Keep live regions current without a reload. Every element with data-live="URL" is refetched when
// the server says the board changed (server-sent events on data-events); when streaming is not
// possible the page polls. A region with data-parts gets the parts that changed in the stream
// itself and swaps just those (app/views/parts.py), with no fetch. Stickies that moved or are new
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
      if (r.status === 304) return;
      if (!r.ok) throw new Error(r.status);
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
    pollTimer = setInterval(refresh, ms);
  }

  var eventsUrl = regions[0].getAttribute("data-events");
  if (window.EventSource && eventsUrl) {
    var query = [];
    if (shown) query.push("v=" + encodeURIComponent(shown));
    if (partsRegion) query.push("parts=" + encodeURIComponent(partsRegion.getAttribute("data-parts")));
    var source = new EventSource(eventsUrl + (query.length ? "?" + query.join("&") : ""));
    var first = !shown;
    source.addEventListener("board", function () {
      if (first) { first = false; return; }  // the stream's first stamp is what the page shows
      refresh();
    });
    source.addEventListener("parts", function (e) {
      var data = null;
      try { data = JSON.parse(e.data); } catch (err) { /* refetched below */ }
      if (!data || !applyParts(data)) refresh();
    });
    source.onopen = function () { poll(SAFETY_POLL_MS); };
    source.onerror = function () {
      // The browser reconnects by itself; a refused stream (503) closes for good: poll instead.
      if (source.readyState === EventSource.CLOSED) poll(POLL_MS);
    };
    poll(POLL_MS);
  } else {
    poll(POLL_MS);
  }
})();
