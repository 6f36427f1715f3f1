// The wall screen shows every room when they fit; otherwise it pages through the rooms, a screenful
// at a time, so that nothing is cut off and nothing scrolls.
//
// Rooms are measured, never guessed: a handwritten sticky's picture carries its size (width and
// height attributes) and the height of sticky it shows (data-mm-height), so its room is known
// before it loads; a picture without them (kept before pictures had a shape) is laid out again
// when it loads. Pictures show the writing at one scale, MM_PX screen pixels per millimetre of
// sticky: the largest step that puts the fewest pages on the screen. A room taller than the
// screen on its own has its pictures shrunk until it fits.
(function () {
  "use strict";
  var ROTATE_MS = 10000, page = 0, pages = [], scale = 0, pending = false;
  // Handwriting 6 mm high at 6 px/mm is as tall as a 48 px title's capitals, read from 5 m.
  var MM_PX = [10, 9.5, 9, 8.5, 8, 7.5, 7, 6.5, 6];
  // A picture without a shape is a whole sticky: shown as if it held this much writing.
  var UNKNOWN_MM = 16;

  function pictures(scope) {
    return Array.prototype.slice.call(scope.querySelectorAll(".kiosk-picture img"));
  }

  function size(img, mmPx) {
    var mm = parseFloat(img.getAttribute("data-mm-height")) || UNKNOWN_MM;
    img.style.height = Math.round(mm * mmPx) + "px";
  }

  function room(body) {
    return window.innerHeight - body.getBoundingClientRect().top - 16;
  }

  // Rooms into pages, in order, as many to a page as fit in `space` pixels.
  function pack(rows, space) {
    var out = [[]], used = 0;
    rows.forEach(function (row) {
      var h = row.getBoundingClientRect().height;
      if (used + h > space && out[out.length - 1].length) { out.push([]); used = 0; }
      out[out.length - 1].push(row);
      used += h;
    });
    return out;
  }

  // A room taller than the screen: its pictures shrink by what it is over, until it fits.
  function squeeze(rows, space) {
    rows.forEach(function (row) {
      for (var i = 0; i < 4; i++) {
        var over = row.getBoundingClientRect().height - space;
        var imgs = pictures(row);
        if (over <= 0 || !imgs.length) return;
        imgs.forEach(function (img) {
          var h = img.getBoundingClientRect().height;
          img.style.height = Math.max(24, Math.floor(h - over - 1)) + "px";
        });
      }
    });
  }

  function layout() {
    pending = false;
    var body = document.querySelector("[data-rotate]");
    if (!body) { pages = []; return; }
    var rows = Array.prototype.slice.call(body.rows);
    rows.forEach(function (row) { row.classList.remove("rotated-out"); });
    var imgs = pictures(body), space = room(body), best = null;
    MM_PX.forEach(function (mmPx) {
      if (best && !imgs.length) return;
      imgs.forEach(function (img) { size(img, mmPx); });
      var n = pack(rows, space).length;
      if (!best || n < best.n) best = { n: n, mmPx: mmPx };
    });
    scale = best.mmPx;
    imgs.forEach(function (img) { size(img, scale); });
    squeeze(rows, space);
    pages = pack(rows, space);
    if (page >= pages.length) page = 0;
    show();
  }

  function later() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(layout);
  }

  function show() {
    var count = document.querySelector("[data-page-count]");
    pages.forEach(function (rows, i) {
      rows.forEach(function (row) { row.classList.toggle("rotated-out", i !== page); });
    });
    if (count) {
      count.textContent = pages.length > 1 ? (page + 1) + "/" + pages.length : "";
      count.hidden = pages.length < 2;
    }
  }

  function rotate() {
    if (pages.length > 1) { page = (page + 1) % pages.length; show(); }
  }

  // A picture that loads late (or fails to) changes its room's height: lay out again.
  document.addEventListener("load", function (e) {
    if (e.target.tagName === "IMG") later();
  }, true);
  document.addEventListener("error", function (e) {
    if (e.target.tagName === "IMG") later();
  }, true);
  layout();
  setInterval(rotate, ROTATE_MS);
  window.addEventListener("resize", later);
  document.addEventListener("openspaces:updated", layout);
  window.openspacesKiosk = {
    layout: layout,
    rotate: rotate,
    pages: function () { return pages.length; },
    page: function () { return page; },
    scale: function () { return scale; }
  };
})();
