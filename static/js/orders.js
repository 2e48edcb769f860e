// Order entry: scanning, adding, removing and recomputing lines without leaving the page.
// Every change of the lines goes to the server, which validates the whole form and sends back the
// lines with their amounts; requests run one after the other so a fast scanner loses no scan.
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  onReady(function () {
    var form = document.getElementById("order-form");
    if (!form || !window.htmx) { return; }
    var linesUrl = form.getAttribute("data-lines-url");
    var queue = Promise.resolve();
    var lastRecalc = null;

    // The lines as the server would see them, to skip a recalculation of what was just sent.
    function linesSnapshot() {
      var lines = document.getElementById("order-lines");
      if (!lines) { return ""; }
      var parts = [];
      lines.querySelectorAll("input, select").forEach(function (input) { parts.push(input.name + "=" + input.value); });
      return parts.join("&");
    }

    function recalc() {
      var snapshot = linesSnapshot();
      if (snapshot === lastRecalc) { return; }  // Enter then blur: the same figures, one request
      lastRecalc = snapshot;
      send({ op: "recalc" });
    }

    function send(values) {
      if (values.op !== "recalc") { lastRecalc = null; }
      queue = queue.then(function () {
        return window.htmx.ajax("POST", linesUrl, {
          source: form, values: values, target: "#order-lines", swap: "outerHTML"
        });
      }).catch(function () { /* a failed request leaves the lines as they were */ });
      return queue;
    }

    form.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") { return; }
      var el = event.target;
      if (el.matches("[data-scan]")) {
        // A scanner types the code and presses Enter: add it, clear the field, keep the focus here.
        event.preventDefault();
        var code = el.value.trim();
        el.value = "";
        if (code) { send({ op: "scan", scan_code: code }); }
      } else if (el.matches("[data-enter=none]")) {
        event.preventDefault();
      } else if (el.tagName === "INPUT" && el.closest("#order-lines")) {
        event.preventDefault();
        recalc();
      }
    });

    form.addEventListener("change", function (event) {
      if (event.target.closest("#order-lines")) { recalc(); }
    });

    form.addEventListener("click", function (event) {
      var remove = event.target.closest("[data-remove-line]");
      if (remove) {
        event.preventDefault();
        send({ op: "remove", remove_index: remove.getAttribute("data-remove-line") });
        return;
      }
      var add = event.target.closest("[data-add-product]");
      if (add) {
        event.preventDefault();
        send({ op: "add", add_product: add.getAttribute("data-add-product") });
      }
    });
  });
})();
