// One live stream for every page of this browser (a SharedWorker): browsers keep at most six
// connections to one host over HTTP/1.1, so a stream per page left the seventh page loading for
// ever. Pages join with the stream's URL and the version they show, and leave when they are hidden
// or closed; the stream closes once no page is joined.
//
// Page -> worker: {type: "join", events: URL, version: shown or null} | {type: "leave"}
// Worker -> page: {type: "hello", version} (the newest version known, or null)
//                 {type: "board", version} | {type: "parts", data} (as the stream said)
//                 {type: "live", on: true | false} (false: the stream was refused, poll instead)
"use strict";

var RETRY_REFUSED_MS = 15000;
var ports = new Set();
var source = null, eventsUrl = null, version = null, live = false, retryTimer = null, failures = 0;

function tell(message) { ports.forEach(function (port) { port.postMessage(message); }); }

function setLive(on) {
  if (live === on) return;
  live = on;
  tell({ type: "live", on: on });
}

function open() {
  if (source || !eventsUrl || !ports.size) return;
  // The grid's parts come in the stream for the board page; every other page hears "changed".
  var query = ["parts=grid"];
  if (version) query.push("v=" + encodeURIComponent(version));
  var quiet = !version;  // a stream without ?v= first says the version now: nothing changed
  var es = new EventSource(eventsUrl + (eventsUrl.indexOf("?") < 0 ? "?" : "&") + query.join("&"));
  source = es;
  es.addEventListener("board", function (e) {
    version = e.data;
    if (quiet) { quiet = false; tell({ type: "hello", version: version }); return; }
    tell({ type: "board", version: version });
  });
  es.addEventListener("parts", function (e) {
    var data = null;
    try { data = JSON.parse(e.data); } catch (err) { /* the pages refetch on a bare "board" */ }
    quiet = false;
    if (data) version = data.to;
    tell(data ? { type: "parts", data: data } : { type: "board", version: version });
  });
  var opened = false;
  es.onopen = function () { opened = true; failures = 0; setLive(true); };
  es.onerror = function () {
    var refused = es.readyState === EventSource.CLOSED && !opened;
    close();
    if (opened) {
      // The server ends each stream after a while: reconnect from the version the pages know.
      retryTimer = setTimeout(function () { retryTimer = null; open(); }, 1500);
      return;
    }
    // Refused (503: every stream slot is taken) or out of reach: the pages poll meanwhile.
    setLive(false);
    failures += 1;
    var wait = refused ? RETRY_REFUSED_MS : Math.min(1500 * Math.pow(2, failures - 1), 30000);
    retryTimer = setTimeout(function () { retryTimer = null; open(); }, wait);
  };
}

function close() {
  if (source) { source.close(); source = null; }
  if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; }
}

self.onconnect = function (e) {
  var port = e.ports[0];
  port.onmessage = function (m) {
    var msg = m.data || {};
    if (msg.type === "join") {
      ports.add(port);
      eventsUrl = eventsUrl || msg.events;
      if (!source && !retryTimer) {
        version = msg.version || version;
        open();
      }
      port.postMessage({ type: "hello", version: version });
      port.postMessage({ type: "live", on: live });
    } else if (msg.type === "leave") {
      ports.delete(port);
      if (!ports.size) { close(); live = false; }
    }
  };
  port.start();
};
