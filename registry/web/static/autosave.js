// Saves a draft while it is typed (the proposal editor, the review form: the form with
// id="draft" and data-autosave="on"): each change is posted (after a short pause) to the same
// address as the Save button, with "X-Autosave: 1" so the server answers JSON (row_version,
// and the page's parts the save changed, rendered again by the page's own template). The
// form keeps working without this script, and Submit belongs to the same form: it posts the
// fields on screen, which the server saves and submits together.
//
// The server refuses a save made from an out-of-date row_version (another tab saved first);
// then autosave stops and the Save button shows both versions side by side. When the server
// cannot save (no connection, 5xx, 429), the page says the text is not saved yet and tries
// again with growing pauses (1, 2, 4 ... 30 s), at once when the connection comes back, and
// asks before the page is left with text that is only on screen.
(function () {
  "use strict";
  var form = document.getElementById("draft");
  if (!form || form.dataset.autosave !== "on") return;
  var status = document.getElementById("autosave-status");
  var submitButton = document.getElementById("submit-button");
  var FIRST_RETRY = 1000;
  var LAST_RETRY = 30000;
  var timer = null;
  var dirty = false;      // edits on screen that no save has stored yet
  var saving = null;      // the save under way, if any
  var retryDelay = 0;     // the pause before the next retry; 0 when the last save worked
  var stopped = false;    // or "conflict" / "closed": autosave has stopped, and why
  var leaving = false;    // the form itself is being posted: nothing is lost

  function say(key, seconds) {
    var text = form.dataset[key] || "";
    status.textContent = text.replace("{seconds}", String(seconds));
    status.dataset.state = key;
  }

  // The server renders the parts of the page a save changes (checklist, totals, why Submit
  // is disabled) with the page's own template: swapped in whole, they say what a reload would.
  function showSaved(answer) {
    var regions = answer.regions || {};
    Object.keys(regions).forEach(function (id) {
      var region = document.getElementById(id);
      if (region) region.innerHTML = regions[id];
    });
    if (submitButton && "ready" in answer) submitButton.disabled = !answer.ready;
  }

  function retryLater(messageKey, response) {
    dirty = true;
    retryDelay = retryDelay ? Math.min(retryDelay * 2, LAST_RETRY) : FIRST_RETRY;
    var delay = retryDelay;
    var asked = response && parseInt(response.headers.get("Retry-After"), 10);
    if (asked > 0) delay = Math.min(Math.max(delay, asked * 1000), LAST_RETRY);
    say(messageKey, Math.round(delay / 1000));
    schedule(delay);
  }

  function save() {
    timer = null;
    if (stopped || !dirty) return Promise.resolve();
    if (saving) return saving.then(save);
    dirty = false;
    if (!retryDelay) say("msgSaving");
    var body = new FormData(form);
    body.delete("submit_key");  // the Submit button's, not the draft's
    saving = fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(body),
      credentials: "same-origin",
      headers: { "X-Autosave": "1", "Accept": "application/json" }
    }).then(function (response) {
      if (response.status >= 500 || response.status === 429) {
        return retryLater("msgRetry", response);
      }
      retryDelay = 0;
      if (response.status === 409) {
        dirty = true;
        return response.json().then(function (answer) {
          if (answer.conflict_url) { stopped = "conflict"; say("msgConflict"); return; }
          // Anything else (the call has closed): say why, stop saving, let Submit ask.
          stopped = "closed";
          status.textContent = (answer.errors && answer.errors[""]) || form.dataset.msgInvalid;
        });
      }
      if (!response.ok) {
        // Fields to correct: the next edit tries again; Save draft shows which fields.
        dirty = true;
        say("msgInvalid");
        return;
      }
      return response.json().then(function (answer) {
        form.elements.row_version.value = answer.row_version;
        showSaved(answer);
        if (!dirty) say("msgSaved");
        else if (!timer) schedule(300);  // typed while a retry was under way
      });
    }, function () {
      retryLater("msgOffline");
    }).then(function () { saving = null; });
    return saving;
  }

  function schedule(delay) {
    if (timer) clearTimeout(timer);
    timer = setTimeout(save, delay);
  }

  function edited(delay) {
    dirty = true;
    // While the server is failing, typing does not shorten the pause between retries.
    if (!retryDelay) schedule(delay);
  }

  form.addEventListener("input", function () { edited(1200); });
  form.addEventListener("change", function () { edited(300); });
  window.addEventListener("online", function () {
    if (retryDelay && !saving) schedule(0);
  });
  // Save draft and Submit post the fields on screen themselves. A save still under way would
  // move row_version under Submit's feet: let it finish first (its retries are not waited for).
  form.addEventListener("submit", function (event) {
    if (saving) {
      event.preventDefault();
      var submitter = event.submitter;
      saving.then(function () {
        if (timer) clearTimeout(timer);
        leaving = true;
        // The save may have swapped the region the clicked button was in.
        if (submitter && !submitter.isConnected) submitter = submitButton;
        form.requestSubmit(submitter);
      });
      return;
    }
    if (timer) clearTimeout(timer);
    leaving = true;
  });
  window.addEventListener("pageshow", function () { leaving = false; });
  window.addEventListener("beforeunload", function (event) {
    if (leaving || !(dirty || saving)) return;
    event.preventDefault();
    event.returnValue = form.dataset.msgLeave || "";
  });
})();
