// The wall screen shows every room when they fit; otherwise it pages through the rooms, a screenful
// at a time, so that nothing is cut off and nothing scrolls.
(function () {
  "use strict";
  var ROTATE_MS = 10000, page = 0, pages = [], timer = null;

  function layout() {
    var body = document.querySelector("[data-rotate]");
    if (!body) return;
    var rows = Array.prototype.slice.call(body.rows);
    rows.forEach(function (row) { row.classList.remove("rotated-out"); });
    var room = window.innerHeight - body.getBoundingClientRect().top - 16;
    pages = [[]];
    var used = 0;
    rows.forEach(function (row) {
      var h = row.getBoundingClientRect().height;
      if (used + h > room && pages[pages.length - 1].length) { pages.push([]); used = 0; }
      pages[pages.length - 1].push(row);
      used += h;
    });
    if (page >= pages.length) page = 0;
    show();
  }

  function show() {
    var count = document.querySelector("[data-page-count]");
    pages.forEach(function (rows, i) {
      rows.forEach(function (row) { row.classList.toggle("rotated-out", i !== page); });
    });
    if (count) count.textContent = pages.length > 1 ? (page + 1) + "/" + pages.length : "";
  }

  function rotate() {
    if (pages.length > 1) { page = (page + 1) % pages.length; show(); }
  }

  layout();
  timer = setInterval(rotate, ROTATE_MS);
  window.addEventListener("resize", layout);
  document.addEventListener("openspaces:updated", layout);
  window.openspacesKiosk = { layout: layout, rotate: rotate, pages: function () { return pages.length; } };
  void timer;
})();
