// A browser that marked "I'm interested" follows those sessions in a private calendar feed. The
// server names the feed in a cookie (it is not part of the page, so pages stay the same for
// everyone); this fills in and shows the links to it.
(function () {
  "use strict";
  var match = document.cookie.match(/(?:^|;\s*)openspaces_feed=([A-Za-z0-9_-]+)/);
  if (!match) return;
  var path = "/my/" + match[1] + "/calendar.ics";
  var https = location.origin + path;
  var webcal = "webcal://" + location.host + path;
  document.querySelectorAll("[data-follow-feed]").forEach(function (a) { a.href = https; });
  document.querySelectorAll("[data-follow-webcal]").forEach(function (a) { a.href = webcal; });
  document.querySelectorAll("[data-follow-shown]").forEach(function (el) { el.hidden = false; });
})();
