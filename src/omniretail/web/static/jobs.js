// The job page: ask GET /api/v1/jobs/{id} every second and move the progress bar; when the job has ended,
// load the page again to show its result (the page works without this script: reload it by hand).
(function () {
  "use strict";
  var box = document.querySelector("[data-job-url]");
  if (!box) { return; }
  var bar = box.querySelector("progress");
  var status = box.querySelector("[data-job-status]");
  var words = JSON.parse(box.dataset.jobWords || "{}");
  var locale = document.documentElement.lang || "en";
  var count = new Intl.NumberFormat(locale);
  var lastAnnounced = -1;

  var stateBadge = document.getElementById("job-state");

  function show(job) {
    if (stateBadge && words.states && words.states[job.state]) { stateBadge.textContent = words.states[job.state]; }
    if (job.total) {
      bar.max = job.total;
      bar.value = Math.min(job.done, job.total);
    }
    var percent = job.percent === null || job.percent === undefined ? null : job.percent;
    bar.setAttribute("aria-valuetext", percent === null ? (words.working || "") : percent + "%");
    // announce every 10 %, not every second, so a screen reader is not flooded
    var step = percent === null ? 0 : Math.floor(percent / 10);
    if (step !== lastAnnounced && job.total) {
      lastAnnounced = step;
      status.textContent = (words.progress || "%(done)s of %(total)s")
        .replace("%(done)s", count.format(job.done)).replace("%(total)s", count.format(job.total));
    }
  }

  function poll() {
    fetch(box.dataset.jobUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (!job) { window.setTimeout(poll, 3000); return; }
        show(job);
        if (job.finished) { window.location.reload(); return; }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
