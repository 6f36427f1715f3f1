// Step through the day's scan photos: a slider and a play button.
(function () {
  "use strict";
  var figure = document.querySelector(".timelapse");
  if (!figure) return;
  var frames = JSON.parse(figure.getAttribute("data-frames"));
  var img = document.getElementById("frame"), cap = document.getElementById("caption");
  var scrub = document.getElementById("scrub"), play = document.getElementById("play");
  function show(i) { img.src = frames[i][0]; cap.textContent = frames[i][1]; scrub.value = i; }
  scrub.addEventListener("input", function () { show(+scrub.value); });
  var timer = null;
  play.addEventListener("click", function () {
    if (timer) { clearInterval(timer); timer = null; play.textContent = "Play"; return; }
    play.textContent = "Pause";
    timer = setInterval(function () { show((+scrub.value + 1) % frames.length); }, 600);
  });
})();
