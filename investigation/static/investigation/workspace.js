// The investigation workspace: one section at a time, chosen in the section navigation (the
// address keeps it as #section, so a reload or a link returns to it), and each section's forms
// answered in place by htmx, errors included. Without this file every section is shown and a
// save returns to the section's anchor.
(function () {
  "use strict";

  // A section answered with a 4xx carries the form's field messages: show it, not an error.
  var SWAP_STATUSES = [400, 403, 404, 409];

  function sections() {
    return Array.prototype.slice.call(document.querySelectorAll(".ws-section"));
  }

  function show(anchor) {
    var all = sections();
    if (!all.length) {
      return;
    }
    var current = all.filter(function (s) { return s.id === anchor; })[0] || all[0];
    all.forEach(function (s) { s.hidden = s !== current; });
    document.querySelectorAll(".ws-nav a[data-section]").forEach(function (link) {
      if (link.getAttribute("data-section") === current.id) {
        link.setAttribute("aria-current", "location");
      } else {
        link.removeAttribute("aria-current");
      }
    });
  }

  function fromAddress() {
    show(decodeURIComponent(window.location.hash.replace(/^#/, "")));
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!document.querySelector(".ws-nav")) {
      return;
    }
    document.body.classList.add("ws-tabs");
    fromAddress();
    window.addEventListener("hashchange", fromAddress);
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (
      target && target.classList && target.classList.contains("ws-section") &&
      SWAP_STATUSES.indexOf(event.detail.xhr.status) !== -1
    ) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
