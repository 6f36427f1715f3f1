// Keep the board live without a reload: swap the grid fragment in place and flash what changed.
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board) return;
  var url = board.getAttribute("data-refresh");
  var interval = parseInt(board.getAttribute("data-interval"), 10) * 1000 || 15000;
  var last = board.innerHTML;

  function positions(root) {
    var seen = {};
    root.querySelectorAll("[data-code]").forEach(function (el) {
      var cell = el.closest("td");
      seen[el.getAttribute("data-code")] = cell ? cell.getAttribute("data-room") + "|" + cell.getAttribute("data-slot") : "off";
    });
    return seen;
  }

  function refresh() {
    fetch(url, { headers: { "Accept": "text/html" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        if (html === last) return;
        var before = positions(board);
        board.innerHTML = html;
        last = html;
        var after = positions(board);
        Object.keys(after).forEach(function (code) {
          if (before[code] !== after[code]) {
            board.querySelectorAll('[data-code="' + code + '"]').forEach(function (el) { el.classList.add("fresh"); });
          }
        });
      })
      .catch(function () { /* offline for a moment: the next tick tries again */ });
  }

  window.openspacesRefresh = refresh;
  if (window.EventSource && board.getAttribute("data-events")) {
    var source = new EventSource(board.getAttribute("data-events"));
    source.addEventListener("board", refresh);
  }
  setInterval(refresh, interval);
})();
