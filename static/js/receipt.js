// Goods receipt: a barcode scanner (or a person) types a code and Enter into the scan box; each
// scan adds one unit of that product to the "received goods" list that the form posts.
(function () {
  "use strict";
  function onReady(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  function escapeRegExp(text) { return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }

  // Add `count` units of `sku` to the textarea: increments "SKU n" if the SKU is listed already.
  function addUnits(textarea, sku, count) {
    var lines = textarea.value.split("\n").filter(function (l) { return l.trim() !== ""; });
    var pattern = new RegExp("^" + escapeRegExp(sku) + "(?:\\s+(\\d+))?$", "i");
    var total = count;
    var found = false;
    lines = lines.map(function (line) {
      var match = line.trim().match(pattern);
      if (!match || found) { return line; }
      found = true;
      total = (match[1] ? parseInt(match[1], 10) : 1) + count;
      return sku + " " + total;
    });
    if (!found) { lines.push(sku + " " + count); }
    textarea.value = lines.join("\n") + "\n";
    return total;
  }

  onReady(function () {
    var form = document.getElementById("receipt-form");
    if (!form) { return; }
    var box = form.querySelector("[data-scan-only]");
    var input = form.querySelector("[data-scan-input]");
    var feedback = form.querySelector("[data-scan-feedback]");
    var textarea = form.querySelector("textarea[name=lines]");
    var lookupUrl = form.getAttribute("data-lookup-url");
    if (!box || !input || !textarea || !lookupUrl) { return; }
    box.hidden = false;
    var known = {};

    function say(text, isError) {
      feedback.textContent = text;
      feedback.classList.toggle("error", !!isError);
    }

    function record(product) {
      var total = addUnits(textarea, product.sku, 1);
      say(product.sku + " " + product.name + ": " + total, false);
    }

    input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") { return; }
      event.preventDefault();
      var code = input.value.trim();
      input.value = "";
      if (!code) { return; }
      if (known[code]) { record(known[code]); return; }
      fetch(lookupUrl + "?code=" + encodeURIComponent(code), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          return response.json().then(function (body) { return { ok: response.ok, body: body }; });
        })
        .then(function (result) {
          if (!result.ok) { say(result.body.error || code, true); return; }
          known[code] = result.body;
          record(result.body);
        })
        .catch(function () { say(code + ": ?", true); });
    });
    if (!textarea.value.trim()) { input.focus(); }
  });
})();
