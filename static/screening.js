/* Progressive enhancement only: every page works without this file.
   - Esc anywhere: quick exit (the same form the visible button submits).
   - The new API token page: select the token on focus, and a Copy button.
   - Screening section pages: save the draft when an answer changes, posting the same form to
     the same URL with an X-Autosave header; saves run one after another so each sends the
     version the previous one returned. */
(function () {
  "use strict";

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var exit = document.querySelector("[data-quick-exit]");
    if (exit) {
      event.preventDefault();
      exit.form.submit();
    }
  });

  var errorSummary = document.querySelector("[data-error-summary]");
  if (errorSummary) errorSummary.focus();

  // A new API token or set-password link: select it all on focus; a Copy button where the
  // clipboard is available (its own words in data-copied / data-not-copied).
  document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    var copyStatus = document.querySelector("[data-copy-status]");
    if (!source || !navigator.clipboard || !window.isSecureContext) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.value).then(function () {
        if (copyStatus) copyStatus.textContent = button.getAttribute("data-copied") || "Copied. Paste it into your secret store now.";
      }, function () {
        if (copyStatus) copyStatus.textContent = button.getAttribute("data-not-copied") || "Not copied: select the token and copy it.";
        source.focus();
      });
    });
  });

  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch || !window.FormData) return;
  var status = form.querySelector("[data-autosave-status]");
  var versionInput = form.querySelector("input[name=_version]");
  var queue = Promise.resolve();
  var pending = 0;
  // Answers changed and not yet saved (a save under way, or one that failed): leaving the
  // page now would lose them, so the browser asks first. A button of the form saves them.
  var unsaved = false;
  var submitting = false;

  function say(text) { if (status) status.textContent = text; }

  function save() {
    pending += 1;
    queue = queue.then(function () {
      var body = new FormData(form);
      return fetch(form.action || window.location.href, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-Autosave": "1", "Accept": "application/json" }
      }).then(function (response) {
        return response.json().then(function (data) {
          if (response.ok && data.saved) {
            versionInput.value = data.version;
            if (pending === 1) unsaved = false;
            say("Saved");
          } else {
            say((data.errors || ["Not saved"]).join(" "));
          }
        });
      }).catch(function () {
        say("Not saved automatically: your answers are saved when you continue.");
      }).then(function () { pending -= 1; });
    });
  }

  form.addEventListener("change", function (event) {
    if (event.target && event.target.name && event.target.name !== "_action") {
      unsaved = true;
      save();
    }
  });

  window.addEventListener("beforeunload", function (event) {
    if (submitting || (!unsaved && pending === 0)) return;
    event.preventDefault();
    event.returnValue = "";
  });

  form.addEventListener("submit", function (event) {
    submitting = true;
    if (pending === 0) return;
    event.preventDefault();
    var submitter = event.submitter;
    queue.then(function () {
      if (form.requestSubmit) form.requestSubmit(submitter || undefined);
      else form.submit();
    });
  });
})();
