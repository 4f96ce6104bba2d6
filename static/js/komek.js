/* Komek behaviours, attached by attribute (the Content-Security-Policy forbids inline script
   and inline handlers). Included once from templates/base.html; works on content HTMX swaps in.

   <form data-confirm="text">        asks for confirmation before submitting;
   <form data-disable-on-submit>     disables its submit button(s) after the first submit;
   <select data-autosubmit>          submits its form on change;
   <div data-progress="42">          sets the element's width to 42 % (progress bars). */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var text = form.getAttribute("data-confirm");
    if (text && !window.confirm(text)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    if (form.hasAttribute("data-disable-on-submit")) {
      if (form.getAttribute("data-submitted") === "1") {
        event.preventDefault();
        event.stopImmediatePropagation();
        return;
      }
      form.setAttribute("data-submitted", "1");
      // Disable after the browser has taken the submitter's name/value into the form data.
      window.setTimeout(function () {
        form.querySelectorAll("button[type=submit], input[type=submit], button:not([type])")
          .forEach(function (button) { button.disabled = true; });
      }, 0);
    }
  }, true);

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit") && el.form) {
      if (typeof el.form.requestSubmit === "function") {
        el.form.requestSubmit();
      } else {
        el.form.submit();
      }
    }
  });

  function applyProgress(root) {
    (root || document).querySelectorAll("[data-progress]").forEach(function (el) {
      var value = parseFloat(el.getAttribute("data-progress"));
      if (!isNaN(value)) el.style.width = Math.max(0, Math.min(100, value)) + "%";
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { applyProgress(document); });
  } else {
    applyProgress(document);
  }
  document.addEventListener("htmx:afterSwap", function (event) {
    applyProgress(event.target && event.target.parentNode ? event.target.parentNode : document);
  });
  document.addEventListener("htmx:load", function (event) { applyProgress(event.target); });
})();
