// Web Push: a button with data-push ("follow", or a person sticky's code for new sessions on that
// person's interests) asks the phone for notifications, subscribes with the board's key and hands
// the subscription to the board (app/views/notifications.py). The service worker (sw.js) shows
// what arrives. Where the browser cannot, the buttons stay hidden.
(function () {
  "use strict";
  var buttons = Array.prototype.slice.call(document.querySelectorAll("[data-push]"));
  if (!buttons.length || !window.isSecureContext || !("serviceWorker" in navigator) ||
      !("PushManager" in window) || !("Notification" in window)) return;

  function keyBytes(text) {
    var padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function say(button, text) {
    var status = document.getElementById(button.getAttribute("aria-describedby"));
    if (status) status.textContent = text;
  }

  function subscribe(button) {
    var what = button.getAttribute("data-push");
    button.disabled = true;
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") throw new Error("Notifications are off for this site in your browser's settings.");
      return Promise.all([
        navigator.serviceWorker.ready,
        fetch("/push/key", { credentials: "same-origin" }).then(function (r) { return r.json(); })
      ]);
    }).then(function (both) {
      var registration = both[0], key = keyBytes(both[1].key);
      return registration.pushManager.getSubscription().then(function (existing) {
        return existing || registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      });
    }).then(function (subscription) {
      var body = subscription.toJSON();
      if (what !== "follow") body.person = what;
      return fetch("/push/subscriptions", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
      });
    }).then(function (response) {
      if (!response.ok) throw new Error("The board could not keep the subscription. Try again.");
      button.setAttribute("aria-pressed", "true");
      say(button, what === "follow" ? "This phone will be told when a session you follow moves, comes off the wall or is about to start."
                                    : "This phone will be told of new sessions on these interests.");
    }).catch(function (error) {
      button.disabled = false;
      say(button, error && error.message ? error.message : "Notifications could not be turned on.");
    });
  }

  buttons.forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { subscribe(button); });
  });
})();
