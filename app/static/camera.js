// The phone as a wall camera. Pairs with the code from the organizer dashboard's QR, films the wall
// with the rear camera, and every few seconds uploads the frame to POST /api/scans when it changed,
// and one frame CONFIRM_MS later to confirm the change (the server takes a sticky off once two
// scans that many seconds apart missed it), or once a minute as a heartbeat; the server scans it. A changed wall is photographed
// at the camera's highest still resolution (ImageCapture.takePhoto) so that handwriting reads;
// every frame carries the time it was taken (captured_dt). Frames wait in IndexedDB while the
// network or the server is away and are sent oldest first, each under its own scan id, so a frame
// sent twice is applied once. One frame never holds up the frames behind it: a frame the board
// refuses (4xx) is dropped at once, and one it keeps failing on (5xx) after SERVER_TRIES answers.
// Photo coordinates are pixels, origin top-left, x right, y down.
(function () {
  "use strict";

  // The change test, the same as the webcam loop's (camera/frames.py): a grey thumbnail THUMB_W
  // pixels wide, blurred by 1 px; a pixel changed when its grey level moved by more than the step.
  var change = window.openspacesChange = {
    thumbnail: function (source, width, height, thumbWidth) {
      var w = thumbWidth, h = Math.max(1, Math.round(height * thumbWidth / width));
      var canvas = document.createElement("canvas");
      canvas.width = w; canvas.height = h;
      var ctx = canvas.getContext("2d", { willReadFrequently: true });
      ctx.filter = "blur(1px)";
      ctx.drawImage(source, 0, 0, w, h);
      var rgba = ctx.getImageData(0, 0, w, h).data;
      var grey = new Uint8Array(w * h);
      for (var i = 0, j = 0; j < grey.length; i += 4, j++) {
        grey[j] = (rgba[i] * 299 + rgba[i + 1] * 587 + rgba[i + 2] * 114) / 1000;
      }
      return grey;
    },
    changedFraction: function (a, b, step) {
      if (!a || !b || a.length !== b.length) return 1;
      var changed = 0;
      for (var i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > step) changed++;
      return changed / a.length;
    }
  };

  var root = document.getElementById("camera");
  if (!root) return;
  var cfg = root.dataset;
  var params = new URLSearchParams(location.search);
  var EVERY_S = clamp(Number(params.get("every")) || Number(cfg.every), 1, 600);
  var HEARTBEAT_MS = Number(cfg.heartbeat) * 1000;
  var THUMB_W = Number(cfg.thumbWidth);
  var LEVEL_STEP = Number(cfg.levelStep);
  var CHANGE_FRACTION = Number(cfg.changeFraction);
  var QUEUE_FRAMES = Number(cfg.queueFrames);
  var QUEUE_BYTES = Number(cfg.queueMb) * 1024 * 1024;
  var JPEG_QUALITY = Number(cfg.jpegQuality);
  var CONFIRM_MS = Number(cfg.confirmAfter) * 1000;
  // A tick may come a little early: a confirmation is due this much before CONFIRM_MS is up.
  var TICK_SLACK_MS = 250;
  // The page asks the board's /healthz this often, so that it says within two seconds that the
  // board is out of reach instead of "Watching the wall".
  var PING_MS = 1000;
  // A still photo that takes longer than this is given up for a frame of the video.
  var PHOTO_TIMEOUT_MS = 8000;
  var STORE_KEY = "openspaces-camera";
  // Answers that mean "not now" rather than "not this frame", as the webcam loop reads them
  // (camera/delivery.py): no event loaded yet, a timeout, too early, too many requests. And a proxy's
  // answers while the board behind it is down or busy. The frame waits, however long that takes.
  var COME_BACK_LATER = [404, 408, 425, 429, 502, 503, 504];
  // Any other 5xx is the board failing on this frame, or failing for a moment: the frame is sent
  // again at the next ticks, and given up after this many such answers.
  var SERVER_TRIES = 3;

  var video = document.getElementById("camera-video");
  var overlay = document.getElementById("camera-outline");
  var el = function (id) { return document.getElementById(id); };

  // What a test or a curious organizer can read: every scan id queued, and the answers.
  var state = window.openspacesCamera = {
    queued: [], delivered: [], duplicates: 0, dropped: 0, droppedIds: [], stopped: false,
    rejected: 0, rejectedIds: [], refusal: "", givenUp: 0, givenUpIds: [], photos: 0
  };
  var serverErrors = {};   // frame seq -> 5xx answers to it so far
  var camera = null;       // {name, token}
  var stream = null, wakeLock = null, timer = null, pinger = null, db = null, imageCapture = null, photoSize = null;
  var lastThumb = null, lastQueuedMs = 0, lastScanIdMs = 0, sending = false, changedMs = 0;
  var reachable = true, watching = false, posting = null;  // posting: the seq of the frame on its way
  var outline = null;      // {outline: [[x, y] x 4], size: [w, h]} from the last scan

  function clamp(v, lo, hi) { return Math.min(hi, Math.max(lo, v)); }

  // "HH:MM:SS" in 24-hour time whatever the phone's locale, as every page of the board shows times.
  function clock(date) {
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    return two(date.getHours()) + ":" + two(date.getMinutes()) + ":" + two(date.getSeconds());
  }

  function say(text, kind) {
    var p = el("camera-state");
    p.textContent = text;
    p.className = "camera-state" + (kind ? " " + kind : "");
  }

  function list(id, items, empty) {
    var ul = el(id);
    ul.textContent = "";
    if (!items.length && empty) items = [{ text: empty, muted: true }];
    items.forEach(function (item) {
      var li = document.createElement("li");
      li.textContent = item.text;
      if (item.muted) li.className = "muted";
      ul.appendChild(li);
    });
  }

  // --- pairing --------------------------------------------------------------------------------

  function loadCamera() {
    try { return JSON.parse(localStorage.getItem(STORE_KEY)) || null; } catch (e) { return null; }
  }

  function pair(code) {
    return fetch(cfg.pair, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": cfg.csrf },
      body: JSON.stringify({ code: code })
    }).then(function (r) {
      return r.json().then(function (body) {
        if (r.status !== 201) throw new Error(body.error || "pairing failed (" + r.status + ")");
        var paired = { name: body.name, token: body.token };
        localStorage.setItem(STORE_KEY, JSON.stringify(paired));
        return paired;
      });
    });
  }

  function dropPairingCode() {
    params.delete("pair");
    var rest = params.toString();
    history.replaceState(null, "", location.pathname + (rest ? "?" + rest : ""));
  }

  function unpaired(message) {
    state.stopped = true;
    localStorage.removeItem(STORE_KEY);
    if (timer) clearInterval(timer);
    if (pinger) clearInterval(pinger);
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    if (wakeLock) wakeLock.release().catch(function () {});
    wakeLock = null;
    showAwake();
    // Frames taken under a revoked token are not sent under another one.
    if (db) tx("readwrite", function (store) { store.clear(); }).catch(function () {});
    el("camera-name").textContent = "not paired";
    say(message, "stop");
  }

  // --- the frame queue (IndexedDB) ------------------------------------------------------------

  function openQueue() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open("openspaces-camera", 1);
      req.onupgradeneeded = function () {
        req.result.createObjectStore("frames", { keyPath: "seq", autoIncrement: true });
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function tx(mode, work) {
    return new Promise(function (resolve, reject) {
      var t = db.transaction("frames", mode);
      var result = work(t.objectStore("frames"));
      t.oncomplete = function () { resolve(result && "value" in result ? result.value : undefined); };
      t.onerror = function () { reject(t.error); };
      t.onabort = function () { reject(t.error); };
    });
  }

  function allFrames() {
    return tx("readonly", function (store) {
      var out = { value: [] };
      store.openCursor().onsuccess = function (e) {
        var cursor = e.target.result;
        if (cursor) { out.value.push(cursor.value); cursor.continue(); }
      };
      return out;
    });
  }

  function removeFrame(seq) {
    return tx("readwrite", function (store) { store.delete(seq); });
  }

  // Keep the queue bounded: past its frame count or its size, the oldest frames go first, all but
  // the one on its way to the board, which may arrive.
  function enqueue(frame) {
    return tx("readwrite", function (store) { store.add(frame); })
      .then(allFrames)
      .then(function (all) {
        var frames = all.filter(function (f) { return f.seq !== posting; });
        var bytes = all.reduce(function (sum, f) { return sum + f.bytes; }, 0);
        var drop = [];
        while (all.length - drop.length > QUEUE_FRAMES || bytes > QUEUE_BYTES) {
          if (drop.length >= frames.length - 1) break;  // the newest frame stays
          var oldest = frames[drop.length];
          drop.push(oldest.seq);
          state.droppedIds.push(oldest.scanId);
          bytes -= oldest.bytes;
        }
        state.dropped += drop.length;
        return Promise.all(drop.map(removeFrame));
      });
  }

  // --- sending ----------------------------------------------------------------------------------

  // The count with the noun that fits it, as the server's `plural` helper says it: "1 frame", "2 frames".
  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

  function countFrames(n) { return plural(n, "frame", "frames"); }

  function refusedText() {
    return countFrames(state.rejected) + (state.rejected === 1 ? " refused: " : " refused, the last: ") +
      state.refusal;
  }

  function givenUpText() {
    return countFrames(state.givenUp) + " given up after " + SERVER_TRIES + " server errors each";
  }

  function showQueue(waiting) {
    var p = el("camera-queue");
    p.dataset.waiting = String(waiting);
    var notes = [];
    if (waiting) notes.push(countFrames(waiting) + (waiting === 1 ? " waits" : " wait") + " for the board");
    if (state.dropped) notes.push(plural(state.dropped, "older frame", "older frames") + " dropped (queue full)");
    if (state.rejected) notes.push(refusedText());
    if (state.givenUp) notes.push(givenUpText());
    p.textContent = notes.join("; ");
  }

  function forget(frame) {
    delete serverErrors[frame.seq];
    posting = null;
    return removeFrame(frame.seq);
  }

  function post(frame) {
    var form = new FormData();
    form.append("scan_id", frame.scanId);
    // When the frame was taken, not when it arrives: a frame that waited offline keeps its time.
    if (frame.takenMs) form.append("captured_dt", new Date(frame.takenMs).toISOString());
    form.append("photo", frame.blob, frame.scanId + ".jpg");
    var abort = new AbortController();
    var timeout = setTimeout(function () { abort.abort(); }, 60000);
    return fetch(cfg.scans, {
      method: "POST",
      headers: { "Authorization": "Bearer " + camera.token },
      body: form,
      signal: abort.signal
    }).finally(function () { clearTimeout(timeout); });
  }

  function flush() {
    if (sending || state.stopped || !db) return Promise.resolve();
    sending = true;
    var delivered = 0;
    var step = function () {
      return allFrames().then(function (frames) {
        showQueue(frames.length);
        if (state.stopped) return;
        // The board's view is asked for once the queue is empty, not after every old frame.
        if (!frames.length) return delivered ? refreshStatus() : undefined;
        var frame = frames[0];
        posting = frame.seq;
        return post(frame).then(function (r) {
          if (r.status === 401) {
            unpaired("This camera was unpaired on the board. Scan a new pairing code on the organizer dashboard.");
            return;
          }
          if (r.status === 200 || r.status === 201) {
            return r.json().then(function (answer) {
              state.delivered.push(frame.scanId);
              delivered += 1;
              if (frames.length > 1) say("Sending the frames that waited: " + (frames.length - 1) + " left", "wait");
              if (answer.duplicate) state.duplicates += 1;
              else showChanges(answer.changes || []);
              return forget(frame).then(step);
            });
          }
          if (COME_BACK_LATER.indexOf(r.status) >= 0) {
            say("The board is busy (" + r.status + "); frames wait and are sent later.", "wait");
            return;
          }
          if (r.status >= 400 && r.status < 500) {
            // The board refuses this frame for good (not a photo, an odd size, too large): it is
            // never sent again, and the frames behind it go on.
            state.rejected += 1;
            state.rejectedIds.push(frame.scanId);
            return r.json().catch(function () { return {}; }).then(function (body) {
              state.refusal = (body && body.error) || "answer " + r.status;
              say(refusedText(), "wait");
              return forget(frame).then(step);
            });
          }
          var tries = (serverErrors[frame.seq] || 0) + 1;
          serverErrors[frame.seq] = tries;
          if (tries >= SERVER_TRIES) {
            state.givenUp += 1;
            state.givenUpIds.push(frame.scanId);
            say("The board failed on a frame " + tries + " times (" + r.status + "); it is given up " +
                "and the next frames go on.", "wait");
            return forget(frame).then(step);
          }
          say("The board failed on a frame (" + r.status + "); it is sent again shortly.", "wait");
        }, function () {
          outOfReach();
        });
      });
    };
    return step().finally(function () {
      sending = false;
      posting = null;
      if (!state.stopped) allFrames().then(function (f) { showQueue(f.length); });
    });
  }

  // --- what the board saw -----------------------------------------------------------------------

  function where(place) {
    if (!place || place.status === "none") return "off the board";
    if (place.status === "off_grid") return "off the grid";
    return place.room + " " + (place.slot || "").slice(11);
  }

  function showChanges(changes) {
    if (!changes.length) return;
    var now = clock(new Date());
    list("camera-changes", changes.map(function (c) {
      return { text: now + " · " + (c.title || c.code) + ": " + where(c.from) + " → " + where(c.to) };
    }));
  }

  function refreshStatus() {
    return fetch(cfg.status, { headers: { "Authorization": "Bearer " + camera.token }, cache: "no-store" })
      .then(function (r) {
        if (r.status === 401) {
          unpaired("This camera was unpaired on the board. Scan a new pairing code on the organizer dashboard.");
          return;
        }
        if (!r.ok) return;
        return r.json().then(function (body) {
          el("camera-name").textContent = body.camera;
          if (body.last) showLast(body.last);
        });
      }, function () { /* offline: the queue line says so */ });
  }

  function showLast(last) {
    // The board's count, which is what the board and the kiosk show; the scan's own may differ for
    // the few seconds until the server takes a missing sticky off.
    el("camera-placed").textContent = String(last.on_board);
    el("camera-placed-label").textContent = last.on_board === 1 ? "sticky placed" : "stickies placed";
    el("camera-last").textContent = "Last scan " + clock(new Date(last.received)) +
      (last.board_found ? ": " + plural(last.placed.length, "sticky", "stickies") + " in cells" : ": the board is not in view") +
      (last.hidden ? " · " + plural(last.hidden, "cell", "cells") + " hidden" : "") +
      (last.off_grid ? " · " + last.off_grid + " off the grid" : "");
    var warnings = last.warnings.slice();
    if (!last.board_found) warnings.unshift("Board not in view: turn the phone until all four corner cards are in the picture.");
    list("camera-warnings", warnings.map(function (w) { return { text: w }; }));
    list("camera-stickies", last.placed.map(function (s) {
      return { text: (s.title || s.code) + " · " + s.room + " " + s.slot.slice(11) };
    }), "No sticky in a cell.");
    outline = last.outline ? { outline: last.outline, size: last.size } : null;
    drawOutline();
    if (!state.stopped && reachable) say("Watching the wall", "ok");
  }

  // --- is the board there? ----------------------------------------------------------------------

  function outOfReach() {
    reachable = false;
    if (!state.stopped) say("The board is out of reach; frames wait here and are sent when it is back.", "wait");
  }

  function ping() {
    if (state.stopped) return;
    var abort = new AbortController();
    var timeout = setTimeout(function () { abort.abort(); }, PING_MS);
    fetch(cfg.healthz, { cache: "no-store", signal: abort.signal }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      if (!reachable) {
        reachable = true;
        if (watching && !state.stopped) say("Watching the wall", "ok");
        flush();
      }
    }).catch(outOfReach).finally(function () { clearTimeout(timeout); });
  }

  function drawOutline() {
    var w = overlay.clientWidth, h = overlay.clientHeight;
    overlay.width = w; overlay.height = h;
    var ctx = overlay.getContext("2d");
    ctx.clearRect(0, 0, w, h);
    if (!outline || !outline.size) return;
    var sx = w / outline.size[0], sy = h / outline.size[1];
    ctx.strokeStyle = "#3ddc84";
    ctx.lineWidth = Math.max(3, w / 200);
    ctx.beginPath();
    outline.outline.forEach(function (p, i) {
      if (i === 0) ctx.moveTo(p[0] * sx, p[1] * sy); else ctx.lineTo(p[0] * sx, p[1] * sy);
    });
    ctx.closePath();
    ctx.stroke();
  }

  // --- the camera ----------------------------------------------------------------------------

  function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return Promise.reject(new Error(
        "This browser gives no camera to this page. Open the board over https:// (or on localhost)."));
    }
    return navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { facingMode: { ideal: "environment" }, width: { ideal: 4096 }, height: { ideal: 2160 } }
    }).then(function (s) {
      stream = s;
      var track = s.getVideoTracks()[0];
      // Ask for the largest frame the camera offers: a 25 mm marker needs the pixels.
      var caps = track.getCapabilities ? track.getCapabilities() : {};
      var better = caps.width && caps.height
        ? track.applyConstraints({ width: caps.width.max, height: caps.height.max }).catch(function () {})
        : Promise.resolve();
      return better.then(function () {
        video.srcObject = s;
        return video.play();
      }).then(function () { return stillCamera(track); });
    });
  }

  // The camera's still photos, where the browser offers them (ImageCapture): often 12 MP where the
  // video gives 2, enough for the server to read handwriting on the stickies. A camera whose
  // photos are no larger than its video frames is left to the video.
  function stillCamera(track) {
    if (typeof ImageCapture === "undefined") return;
    var capture;
    try { capture = new ImageCapture(track); } catch (e) { return; }
    return capture.getPhotoCapabilities().then(function (caps) {
      var w = caps.imageWidth && caps.imageWidth.max, h = caps.imageHeight && caps.imageHeight.max;
      if (!w || !h || w * h <= video.videoWidth * video.videoHeight) return;
      imageCapture = capture;
      photoSize = { imageWidth: w, imageHeight: h };
    }).catch(function () {});
  }

  // The board keeps JPEG photos: a still in another format is encoded again.
  function asJpeg(blob) {
    if (!blob || !blob.size) return Promise.reject(new Error("an empty photo"));
    if (blob.type === "image/jpeg") return Promise.resolve(blob);
    return createImageBitmap(blob).then(function (bitmap) {
      var canvas = document.createElement("canvas");
      canvas.width = bitmap.width; canvas.height = bitmap.height;
      canvas.getContext("2d").drawImage(bitmap, 0, 0);
      return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", JPEG_QUALITY); });
    });
  }

  function keepAwake() {
    if (!("wakeLock" in navigator) || state.stopped) return Promise.resolve(false);
    return navigator.wakeLock.request("screen").then(function (lock) {
      wakeLock = lock;
      showAwake();
      lock.addEventListener("release", function () { wakeLock = null; showAwake(); });
      return true;
    }, function () { return false; });
  }

  // The warning stays up as long as the screen may go dark, whatever else the page says.
  function showAwake() {
    var p = el("camera-awake");
    p.hidden = !!wakeLock || state.stopped;
  }

  function thumbnail() {
    return change.thumbnail(video, video.videoWidth, video.videoHeight, THUMB_W);
  }

  function grabFrame() {
    var canvas = document.createElement("canvas");
    canvas.width = video.videoWidth; canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", JPEG_QUALITY); });
  }

  // A still photo at the camera's highest resolution when the browser offers one; else, or when it
  // fails or takes too long, the video's frame.
  function takePhoto() {
    if (!imageCapture) return grabFrame();
    var photo = new Promise(function (resolve, reject) {
      var timeout = setTimeout(function () { reject(new Error("the still photo took too long")); }, PHOTO_TIMEOUT_MS);
      imageCapture.takePhoto(photoSize || undefined).then(function (blob) {
        clearTimeout(timeout);
        resolve(blob);
      }, function (e) { clearTimeout(timeout); reject(e); });
    });
    return photo.then(asJpeg).then(function (blob) {
      state.photos += 1;
      return blob;
    }).catch(function () { return grabFrame(); });
  }

  function tick() {
    if (state.stopped || video.readyState < 2 || !video.videoWidth) return;
    var now = Date.now();
    var thumb = thumbnail();
    var changed = change.changedFraction(thumb, lastThumb, LEVEL_STEP) > CHANGE_FRACTION;
    var confirming = !changed && changedMs && now - changedMs >= CONFIRM_MS - TICK_SLACK_MS;
    if (!changed && !confirming && now - lastQueuedMs < HEARTBEAT_MS) { flush(); return; }
    // A change is confirmed by a frame CONFIRM_MS later even when it matches, as the webcam loop
    // confirms one (camera/loop.py): the server takes a missing sticky off only once two scans
    // that far apart saw it gone.
    changedMs = changed && lastThumb ? now : 0;
    lastThumb = thumb;
    lastQueuedMs = now;
    // The scan id names the camera and the moment; it goes with the frame through every retry.
    var ms = Math.max(now, lastScanIdMs + 1);
    lastScanIdMs = ms;
    var scanId = camera.name + "-" + ms;
    (changed ? takePhoto() : grabFrame()).then(function (blob) {
      if (!blob) return;
      state.queued.push(scanId);
      return enqueue({ scanId: scanId, blob: blob, bytes: blob.size, takenMs: now }).then(flush);
    }).catch(function (e) { say("Could not keep a frame: " + e.message, "wait"); });
  }

  // --- start ----------------------------------------------------------------------------------

  function start() {
    el("camera-name").textContent = camera.name;
    return refreshStatus().then(function () {
      if (state.stopped) return;
      return openQueue().then(function (opened) { db = opened; })
        .then(startCamera)
        .then(keepAwake)
        .then(function () {
          if (state.stopped) return;
          watching = true;
          showAwake();
          if (reachable) say("Watching the wall", "ok");
          window.addEventListener("resize", drawOutline);
          window.addEventListener("online", flush);
          document.addEventListener("visibilitychange", function () {
            if (document.visibilityState === "visible" && !wakeLock) keepAwake();
          });
          timer = setInterval(tick, EVERY_S * 1000);
          pinger = setInterval(ping, PING_MS);
          tick();
          flush();
        });
    }).catch(function (e) { say(e.message || String(e), "stop"); });
  }

  var code = params.get("pair");
  var ready = code
    ? pair(code).then(function (paired) { dropPairingCode(); return paired; }, function (e) {
        dropPairingCode();
        var known = loadCamera();
        if (!known) throw e;
        return known;  // reopened from the history: this phone is paired already
      })
    : Promise.resolve(loadCamera());
  ready.then(function (paired) {
    if (!paired) {
      say("Not paired. On the organizer dashboard, scan the pairing QR code with this phone.", "stop");
      return;
    }
    camera = paired;
    return start();
  }).catch(function (e) { say(e.message || String(e), "stop"); });
})();
