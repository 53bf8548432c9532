/* The store's pickup queue, live: listen to /store/pickups/events (server-sent events); when the queue's
   version changes, fetch its sections again, highlight and announce new orders and curbside arrivals, and
   beep (Web Audio, after the associate turns sound on). No build step, no dependencies. */
(function () {
  "use strict";
  var root = document.getElementById("pickup-queue");
  if (!root) { return; }
  var announcer = document.getElementById("queue-announcer");
  var soundButton = document.getElementById("queue-sound");
  var audio = null;
  var soundOn = false;
  var busy = false;
  var again = false;

  function sections() { return root.querySelector(".queue-sections"); }
  function rowsIn(selector) {
    var out = {};
    Array.prototype.forEach.call(root.querySelectorAll(selector + " [data-fo-id]"), function (row) {
      out[row.getAttribute("data-fo-id")] = row.getAttribute("data-number");
    });
    return out;
  }

  function beep() {
    if (!soundOn || !audio) { return; }
    try {
      var now = audio.currentTime;
      [0, 0.22].forEach(function (offset) {
        var osc = audio.createOscillator();
        var gain = audio.createGain();
        osc.type = "sine";
        osc.frequency.value = 880;
        gain.gain.setValueAtTime(0.0001, now + offset);
        gain.gain.exponentialRampToValueAtTime(0.3, now + offset + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.18);
        osc.connect(gain);
        gain.connect(audio.destination);
        osc.start(now + offset);
        osc.stop(now + offset + 0.2);
      });
    } catch (e) { /* no audio on this device */ }
  }

  function announce(text) {
    if (!announcer) { return; }
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    var before = rowsIn(".queue-sections");
    var curbsideBefore = rowsIn(".queue-curbside");
    fetch(root.getAttribute("data-fragment"), { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var template = document.createElement("template");
        template.innerHTML = html.trim();
        var fresh = template.content.querySelector(".queue-sections");
        if (!fresh) { return; }
        sections().replaceWith(fresh);
        root.setAttribute("data-version", fresh.getAttribute("data-version"));
        var messages = [];
        var after = rowsIn(".queue-sections");
        var curbsideAfter = rowsIn(".queue-curbside");
        Object.keys(after).forEach(function (id) {
          var isNew = !(id in before);
          var arrived = (id in curbsideAfter) && !(id in curbsideBefore);
          if (isNew || arrived) {
            Array.prototype.forEach.call(root.querySelectorAll('[data-fo-id="' + id + '"]'), function (row) {
              row.classList.add("queue-new");
            });
            var text = root.getAttribute(arrived ? "data-curbside-text" : "data-new-text") || "";
            messages.push(text.replace("{number}", after[id]));
          }
        });
        if (messages.length) {
          announce(messages.join(". "));
          beep();
        }
      })
      .catch(function () { /* try again on the next event */ })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  if (soundButton && (window.AudioContext || window.webkitAudioContext)) {
    soundButton.hidden = false;
    soundButton.addEventListener("click", function () {
      if (!audio) { audio = new (window.AudioContext || window.webkitAudioContext)(); }
      soundOn = !soundOn;
      if (soundOn && audio.state === "suspended") { audio.resume(); }
      soundButton.setAttribute("aria-pressed", soundOn ? "true" : "false");
      beep();
    });
  }

  var version = (sections() || root).getAttribute("data-version");
  if (window.EventSource) {
    var source = new EventSource(root.getAttribute("data-events"));
    source.addEventListener("queue", function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data.version !== version) {
        version = data.version;
        refresh();
      }
    });
  }
  // the promise clocks move on even when nothing changes
  window.setInterval(refresh, 60000);
}());
