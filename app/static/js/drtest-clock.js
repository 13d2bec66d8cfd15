/* Quarterdeck DR exercise clock: keeps the server-rendered elapsed times of running phases and steps ticking.
   The server's "now" at render time corrects for a laptop whose clock is off. Without this file the page shows
   the elapsed time as of the page load, which is still correct. */
(function () {
  "use strict";
  var clocks = document.querySelectorAll(".dr-clock[data-started]");
  if (!clocks.length) { return; }
  var loadedAt = Date.now();

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function format(seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    return h ? h + " h " + pad(m) + " min" : m + " min " + pad(s) + " s";
  }

  function tick() {
    var sinceLoad = Date.now() - loadedAt;
    for (var i = 0; i < clocks.length; i++) {
      var el = clocks[i];
      var started = Date.parse(el.getAttribute("data-started"));
      var serverNow = Date.parse(el.getAttribute("data-server-now"));
      if (isNaN(started) || isNaN(serverNow)) { continue; }
      el.textContent = format(Math.max(0, Math.floor((serverNow + sinceLoad - started) / 1000)));
    }
  }

  tick();
  window.setInterval(tick, 1000);
}());
