// The service worker: public pages that work without signal. Served from the site's root as
// /sw.js (app/views/offline.py) so that its scope covers every page.
//
// - Public pages (board, kiosk, people, rooms, sticky pages) come from the network when it answers
//   and are kept, with the time they came; without network the kept copy is shown, marked
//   data-offline-saved on <html> (app/static/offline.js shows "Offline · last updated HH:MM").
// - Their assets (versioned /static/ files, sticky pictures) are kept too.
// - Everything else goes to the network untouched: organizer pages (/admin…, /login) are private
//   and never kept, nor is any answer marked no-store (claim forms, pages with a private edit
//   link, pages rendered for an organizer). The phone camera page keeps its own queue.
"use strict";

var PAGES = "openspaces-pages-v1";
var ASSETS = "openspaces-assets-v1";
// The "I'm interested" taps that pages keep while offline (app/static/offline.js): not this worker's.
var TAPS = "openspaces-kept-taps";
var SAVED_HEADER = "X-Openspaces-Saved";
// Without an answer in this long, a kept page is shown instead (a signal too weak to load).
var NETWORK_WAIT_MS = 6000;
var KEPT_PAGES = [/^$/, /^board$/, /^kiosk$/, /^people$/, /^rooms\/\d+$/, /^s\/[0-9A-Za-z]+$/];
var KEPT_ASSETS = [/^static\//, /^s\/[0-9A-Za-z]+\/picture\.jpg$/, /^favicon/];

// ---------------------------------------------------------------------------------------------
// Life cycle
// ---------------------------------------------------------------------------------------------

self.addEventListener("install", function () { self.skipWaiting(); });

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("openspaces-") === 0 && [PAGES, ASSETS, TAPS].indexOf(name) < 0;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

// ---------------------------------------------------------------------------------------------
// Pages and assets kept for offline use
// ---------------------------------------------------------------------------------------------

// The request's path below the worker's scope ("board", "s/7KQ2XM"), or null outside it.
function local(url) {
  var scope = self.registration.scope;
  return url.indexOf(scope) === 0 ? url.slice(scope.length).split("#")[0] : null;
}

function matches(patterns, path) {
  return patterns.some(function (re) { return re.test(path); });
}

function keepable(response) {
  var cache = response.headers.get("Cache-Control") || "";
  return response.status === 200 && response.type === "basic" && !/no-store/i.test(cache);
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var path = local(request.url);
  if (path === null) return;
  var page = path.split("?")[0];
  if (request.mode === "navigate" && matches(KEPT_PAGES, page)) {
    event.respondWith(networkFirst(request));
  } else if (request.mode !== "navigate" && matches(KEPT_ASSETS, page)) {
    event.respondWith(keptAsset(request));
  }
});

function networkFirst(request) {
  var fromNetwork = fetch(request).then(function (response) {
    if (keepable(response)) {
      var headers = new Headers(response.headers);
      headers.set(SAVED_HEADER, String(Date.now()));
      response.clone().blob().then(function (body) {
        return caches.open(PAGES).then(function (cache) {
          return cache.put(request.url, new Response(body, { status: 200, headers: headers }));
        });
      });
    } else if (response.status < 500) {
      // A page that is gone, or may not be kept (no-store), leaves no copy behind.
      caches.open(PAGES).then(function (cache) { cache.delete(request.url); });
    }
    return response;
  });
  return caches.open(PAGES).then(function (cache) { return cache.match(request.url); }).then(function (kept) {
    if (!kept) return fromNetwork.catch(notKept);
    fromNetwork.catch(function () { /* answered from the kept copy below */ });
    var slow = new Promise(function (resolve, reject) { setTimeout(reject, NETWORK_WAIT_MS); });
    return Promise.race([fromNetwork, slow]).then(function (response) {
      // A server that is down behind its proxy answers 502 or 503: the kept copy is better.
      return response.status >= 500 ? offlineCopy(kept) : response;
    }, function () { return offlineCopy(kept); });
  });
}

function notKept() {
  var html = '<!doctype html><html lang="en" data-offline-saved="0"><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Offline</title>' +
    "<h1>Offline</h1><p>This page was not opened on this phone while it had signal, so there is " +
    "no copy of it here. Pages you opened before, such as the board, work without signal.</p></html>";
  return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

// The kept page, marked with the time it came so that the page can say how old it is.
function offlineCopy(kept) {
  var saved = kept.headers.get(SAVED_HEADER) || "0";
  return kept.text().then(function (html) {
    var marked = html.replace(/<html\b/i, '<html data-offline-saved="' + Number(saved) + '"');
    var headers = new Headers(kept.headers);
    headers.delete("ETag");
    return new Response(marked, { status: 200, headers: headers });
  });
}

// Versioned assets never change: the kept copy first. Others: the network first, the copy offline.
function keptAsset(request) {
  var versioned = /[?&]v=/.test(request.url);
  return caches.open(ASSETS).then(function (cache) {
    return cache.match(request.url).then(function (kept) {
      if (kept && versioned) return kept;
      return fetch(request).then(function (response) {
        if (keepable(response)) {
          cache.put(request.url, response.clone());
          if (versioned) forgetOtherVersions(cache, request.url);
        }
        return response;
      }).catch(function (error) {
        if (kept) return kept;
        throw error;
      });
    });
  });
}

// A page opened before this worker took charge (the first visit) sends what it loaded: keep it.
self.addEventListener("message", function (event) {
  var msg = event.data || {};
  if (msg.type !== "keep" || !Array.isArray(msg.urls)) return;
  event.waitUntil(Promise.all(msg.urls.map(function (url) {
    var path = local(String(url));
    if (path === null) return null;
    var page = path.split("?")[0];
    if (matches(KEPT_PAGES, page)) {
      return networkFirst(new Request(url)).catch(function () { /* kept next time */ });
    }
    if (matches(KEPT_ASSETS, page)) return keptAsset(new Request(url)).catch(function () { /* idem */ });
    return null;
  })));
});

// A new picture of a sticky replaces its older ones: the phone keeps one copy of each.
function forgetOtherVersions(cache, url) {
  var path = url.split("?")[0];
  cache.keys().then(function (requests) {
    requests.forEach(function (old) {
      if (old.url !== url && old.url.split("?")[0] === path) cache.delete(old);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Web Push: board news on the lock screen (app/services/push.py sends it, encrypted for this
// browser). Each message is {title, body, url, tag}; a newer one of the same session replaces the
// one still shown (its tag), and a tap opens the session's page, in a tab already open if any.
// ---------------------------------------------------------------------------------------------
self.addEventListener("push", function (event) {
  var news = {};
  try { news = event.data ? event.data.json() : {}; } catch (e) { news = { body: event.data.text() }; }
  var title = news.title || "Open Spaces";
  event.waitUntil(self.registration.showNotification(title, {
    body: news.body || "",
    tag: news.tag || undefined,
    renotify: Boolean(news.tag),
    icon: "/static/favicon.svg",
    data: { url: news.url || "/board" }
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = new URL((event.notification.data && event.notification.data.url) || "/board", self.location.origin).href;
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
    for (var i = 0; i < windows.length; i++) {
      if (windows[i].url === url && "focus" in windows[i]) return windows[i].focus();
    }
    return self.clients.openWindow(url);
  }));
});
