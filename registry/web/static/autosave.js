// Saves the proposal draft while it is typed: each change is posted (after a short pause) to
// the same address as the Save button, with "X-Autosave: 1" so the server answers JSON. The
// form keeps working without this script. The server refuses a save made from an out-of-date
// row_version (another tab saved first); then autosave stops and the Save button shows both
// versions side by side.
(function () {
  "use strict";
  var form = document.getElementById("draft");
  if (!form || form.dataset.autosave !== "on") return;
  var status = document.getElementById("autosave-status");
  var submitForm = document.querySelector("#submit form");
  var submitButton = document.getElementById("submit-button");
  var timer = null;
  var dirty = false;
  var saving = null;
  var stopped = false;  // or "conflict" / "closed": autosave has stopped, and why

  function say(key) { status.textContent = form.dataset[key] || ""; }

  function updateChecklist(checks, ready) {
    checks.forEach(function (check) {
      var item = document.querySelector('#checklist li[data-key="' + check.key + '"]');
      if (!item) return;
      item.className = check.ok ? "ok" : "blocked";
      if (!check.ok) item.querySelector(".message").textContent = check.message;
    });
    if (submitButton) submitButton.disabled = !ready;
    var blocked = document.getElementById("submit-blocked");
    if (blocked) blocked.hidden = ready;
  }

  function save() {
    timer = null;
    if (stopped || !dirty) return Promise.resolve();
    if (saving) return saving.then(save);
    dirty = false;
    say("msgSaving");
    var body = new URLSearchParams(new FormData(form));
    saving = fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-Autosave": "1", "Accept": "application/json" }
    }).then(function (response) {
      if (response.status === 409) {
        return response.json().then(function (answer) {
          if (answer.conflict_url) { stopped = "conflict"; say("msgConflict"); return; }
          // Anything else (the call has closed): say why, stop saving, let Submit ask.
          stopped = "closed";
          status.textContent = (answer.errors && answer.errors[""]) || form.dataset.msgInvalid;
        });
      }
      if (!response.ok) { say("msgInvalid"); return; }
      return response.json().then(function (answer) {
        form.elements.row_version.value = answer.row_version;
        updateChecklist(answer.checks, answer.ready);
        if (!dirty) say("msgSaved");
      });
    }).catch(function () {
      dirty = true;
      say("msgOffline");
      schedule(5000);
    }).then(function () { saving = null; });
    return saving;
  }

  function schedule(delay) {
    if (timer) clearTimeout(timer);
    timer = setTimeout(save, delay);
  }

  form.addEventListener("input", function () { dirty = true; schedule(1200); });
  form.addEventListener("change", function () { dirty = true; schedule(300); });
  // Submitting right after typing: save the last keystrokes first, then submit.
  if (submitForm) {
    submitForm.addEventListener("submit", function (event) {
      if (!dirty && !saving) return;
      event.preventDefault();
      if (timer) clearTimeout(timer);
      // After a conflict the typed changes are not saved: submitting now would send the
      // other window's version, so the page asks to compare first. Otherwise the server
      // decides (a closed call answers why).
      save().then(function () { if (stopped !== "conflict") submitForm.submit(); });
    });
  }
  window.addEventListener("beforeunload", function (event) {
    if (dirty && !stopped) { save(); event.preventDefault(); }
  });
})();
