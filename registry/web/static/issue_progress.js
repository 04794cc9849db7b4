// The issue batch's progress bar, kept current by short polling: every 2 s the page asks
// how many documents are issued and moves the bar; when the batch is over it reloads once,
// to list the documents. Without JavaScript the page refreshes itself instead (<noscript>).
(function () {
  "use strict";
  var section = document.getElementById("issue-batch");
  if (!section || !section.dataset.progressUrl) return;
  var bar = document.getElementById("issue-bar");
  var count = document.getElementById("issue-count");
  var template = count.textContent.replace(/\d+/, "{issued}").replace(/\d+/, "{total}");

  function poll() {
    fetch(section.dataset.progressUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (state && state.started) {
          bar.max = state.total;
          bar.value = state.issued;
          bar.textContent = state.percent + "%";
          count.textContent = template.replace("{issued}", state.issued).replace("{total}", state.total);
          if (!state.running) { window.location.reload(); return; }
        }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
})();
