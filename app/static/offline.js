// Pages without signal. Registers the service worker that keeps public pages (app/static/sw.js),
// marks a page shown without network with the time it was last up to date, keeps "I'm interested"
// taps made offline until the network is back, and keeps claim forms from going out into no network.
(function () {
  "use strict";
  var script = document.currentScript;
  var root = document.documentElement;
  // The service worker answered with the copy it kept, and says when that copy came.
  var kept = root.hasAttribute("data-offline-saved");
  var lastFresh = kept ? Number(root.getAttribute("data-offline-saved")) : Date.now();
  var RETRY_MS = 15000;

  if (script && window.isSecureContext && "serviceWorker" in navigator) {
    var worker = script.getAttribute("data-service-worker");
    var first = !navigator.serviceWorker.controller;
    if (worker) navigator.serviceWorker.register(worker).catch(function () { /* pages still work online */ });
    // On the first visit the page came before the worker: hand it the page and what it loaded.
    if (worker && first && !kept) {
      navigator.serviceWorker.ready.then(function (registration) {
        // A claim form is never kept (and asking again for it would count a wrong key twice).
        var urls = document.querySelector("form[data-needs-network]") ? [] : [location.href];
        performance.getEntriesByType("resource").forEach(function (entry) { urls.push(entry.name); });
        registration.active.postMessage({ type: "keep", urls: urls });
      });
    }
  }

  // "HH:MM" in the event's time when the page shows its clock, else in the phone's.
  function clockText(ms) {
    var el = document.querySelector("[data-utc-offset]");
    var t = new Date(ms);
    var h = t.getHours(), m = t.getMinutes();
    if (el) {
      t = new Date(ms + Number(el.getAttribute("data-utc-offset")) * 60000);
      h = t.getUTCHours(); m = t.getUTCMinutes();
    }
    return ("0" + h).slice(-2) + ":" + ("0" + m).slice(-2);
  }

  var mark = null;
  // The phone camera page says what its own queue holds (app/static/camera.js): no second mark.
  var ownMark = document.body.classList.contains("camera-body");
  function showOffline(on) {
    root.classList.toggle("is-offline", on);
    if (on && !mark && !ownMark) {
      mark = document.createElement("p");
      mark.className = "offline-mark";
      mark.setAttribute("role", "status");
      document.body.insertBefore(mark, document.body.firstChild);
    }
    if (mark) {
      mark.hidden = !on;
      mark.innerHTML = "<strong>Offline</strong> · last updated <time></time>";
      mark.querySelector("time").textContent = clockText(lastFresh);
    }
    document.querySelectorAll("form[data-needs-network] .needs-network").forEach(function (note) {
      note.hidden = !on;
    });
  }

  function offline() { return kept || !navigator.onLine; }

  // Load the page anew once the server answers (a page the worker answered with its copy). The
  // copy's live parts may have come fresh meanwhile: the rest of it is still the copy.
  function reloadWhenReachable() {
    fetch(location.href, { method: "HEAD", cache: "no-store" }).then(function (r) {
      if (r.ok && root.hasAttribute("data-offline-saved")) location.reload();
    }, function () { /* still out of reach */ });
  }

  // Back online: a kept copy is loaded anew, a live page catches up, kept taps go out.
  function backOnline() {
    if (kept) { reloadWhenReachable(); return; }
    showOffline(false);
    if (window.openspacesRefresh) window.openspacesRefresh();
    sendTaps();
  }

  window.addEventListener("offline", function () { showOffline(true); });
  window.addEventListener("online", backOnline);
  // The live parts of the page came from the server: it is current again, kept copy or not (a
  // reload here could come back to the copy when the signal is too weak for a whole page).
  document.addEventListener("openspaces:fresh", function () {
    lastFresh = Date.now();
    if (kept && navigator.onLine) { kept = false; showOffline(false); sendTaps(); }
  });
  if (kept) {
    // The phone may say it is online while the server is out of reach: ask it now and then.
    var asking = setInterval(function () {
      if (!kept) { clearInterval(asking); return; }
      if (navigator.onLine) reloadWhenReachable();
    }, RETRY_MS);
  }

  // ---- Claims need the network: first come, first served is the server's to say. ----
  document.querySelectorAll("form[data-needs-network]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (navigator.onLine) return;
      e.preventDefault();  // what was typed stays in the form
      showOffline(true);
      var note = form.querySelector(".needs-network");
      if (note) note.scrollIntoView({ block: "nearest" });
    });
  });

  // ---- "I'm interested" taps made offline, kept on the phone until the network is back. ----
  // Each tap says the mark it wants ("state": on or off), so that sending it twice changes nothing;
  // a later tap on the same session replaces the kept one. They are kept in Cache Storage, which
  // every page of the browser sees at once (localStorage reaches other tabs late).
  var TAPS = "openspaces-kept-taps";
  var canKeep = !!(window.caches && window.isSecureContext);

  function readTaps() {
    return caches.open(TAPS).then(function (cache) {
      return cache.keys().then(function (requests) {
        return Promise.all(requests.map(function (request) {
          return cache.match(request).then(function (r) { return r.json(); }).then(function (tap) {
            return [request.url, tap];
          });
        }));
      });
    }).then(function (pairs) {
      var taps = {};
      pairs.forEach(function (pair) { taps[pair[0]] = pair[1]; });
      return taps;
    });
  }
  function keepTap(action, tap) {
    return caches.open(TAPS).then(function (cache) {
      return cache.put(action, new Response(JSON.stringify(tap), { headers: { "Content-Type": "application/json" } }));
    });
  }
  function forgetTap(action) {
    return caches.open(TAPS).then(function (cache) { return cache.delete(action); });
  }

  function tapForm(action) {
    var found = null;
    document.querySelectorAll("form[data-keep-offline]").forEach(function (form) {
      if (form.action === action) found = form;
    });
    return found;
  }

  // Show the mark a form will have, and what happens to it: waiting, sent, or refused.
  function showTap(form, state, note) {
    if (!form) return;
    var button = form.querySelector("button"), input = form.querySelector('input[name="state"]');
    var on = state === "on";
    button.textContent = on ? "✓ You're interested" : "I'm interested";
    button.classList.toggle("on", on);
    button.classList.toggle("primary", !on);
    button.setAttribute("aria-pressed", on ? "true" : "false");
    if (input) input.value = on ? "off" : "on";
    var status = form.querySelector(".kept-tap");
    if (status) status.textContent = note;
  }

  function fieldValue(fields, name) {
    for (var i = 0; i < fields.length; i++) if (fields[i][0] === name) return fields[i][1];
    return null;
  }

  var WAITING = "Waiting for the network: your tap is kept on this phone and sent when it is back.";
  var tapForms = canKeep ? document.querySelectorAll("form[data-keep-offline]") : [];
  if (tapForms.length) {
    readTaps().then(function (taps) {
      tapForms.forEach(function (form) {
        if (taps[form.action]) showTap(form, fieldValue(taps[form.action].fields, "state"), WAITING);
      });
    });
  }
  Array.prototype.forEach.call(tapForms, function (form) {
    form.addEventListener("submit", function (e) {
      if (navigator.onLine && !kept) return;
      e.preventDefault();
      var fields = [];
      new FormData(form).forEach(function (value, name) { fields.push([name, String(value)]); });
      keepTap(form.action, { fields: fields, at: Date.now() });
      showTap(form, fieldValue(fields, "state"), WAITING);
      showOffline(true);
    });
  });

  // Send one kept tap: "sent", "refused" (for good), or null (try again later).
  function sendTap(action, tap, retried) {
    var body = new URLSearchParams();
    tap.fields.forEach(function (f) { body.append(f[0], f[1]); });
    return fetch(action, { method: "POST", body: body, credentials: "same-origin", redirect: "manual" })
      .then(function (r) {
        if (r.type === "opaqueredirect" || r.ok) return "sent";
        if (r.status === 400 && !retried) {
          // The form's token is from an older visit: take a new one from the session's page.
          return freshToken(action).then(function (token) {
            tap.fields = tap.fields.map(function (f) { return f[0] === "csrf_token" ? [f[0], token] : f; });
            return sendTap(action, tap, true);
          });
        }
        if (r.status === 429 || r.status >= 500) return null;
        return "refused";
      }, function () { return null; });
  }

  function freshToken(action) {
    var page = action.replace(/\/interest$/, "");
    return fetch(page, { credentials: "same-origin", cache: "no-store" }).then(function (r) { return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var input = doc.querySelector('input[name="csrf_token"]');
        return input ? input.value : "";
      });
  }

  // Whichever page sends a tap, the pages that show its session say how it went.
  var tapNews = canKeep && window.BroadcastChannel ? new BroadcastChannel(TAPS) : null;
  if (tapNews) tapNews.onmessage = function (e) { tapTold(e.data || {}); };
  function tapTold(told) {
    var state = told.sent ? told.state : (told.state === "on" ? "off" : "on");
    showTap(tapForm(told.action), state,
      told.sent ? "Sent." : "The board did not take this tap. Reload the page and try again.");
  }

  function sendOne(action, tap) {
    return sendTap(action, tap).then(function (outcome) {
      if (!outcome) return;
      var told = { action: action, state: fieldValue(tap.fields, "state"), sent: outcome === "sent" };
      tapTold(told);
      if (tapNews) tapNews.postMessage(told);
      // A tap made meanwhile (newer) stays kept for the next round.
      return readTaps().then(function (now) {
        if (now[action] && now[action].at === tap.at) return forgetTap(action);
      });
    });
  }

  function sendAll() {
    return readTaps().then(function (taps) {
      return Object.keys(taps).reduce(function (done, action) {
        return done.then(function () { return sendOne(action, taps[action]); });
      }, Promise.resolve());
    });
  }

  // One page at a time sends, reading the kept taps anew: every open page hears "online" at once.
  function sendTaps() {
    if (!canKeep || !navigator.onLine) return;
    if (navigator.locks && navigator.locks.request) {
      navigator.locks.request(TAPS, sendAll).catch(function () { /* kept for next time */ });
    } else {
      sendAll();
    }
  }

  showOffline(offline());
  if (!kept) sendTaps();
})();
