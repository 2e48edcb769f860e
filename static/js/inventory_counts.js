// Stock count page: after each scan the scan field is emptied and keeps the focus, so the next
// barcode can follow at once (the server's answer is swapped in by htmx).
(function () {
  "use strict";
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target && event.target.closest ? event.target.closest("[data-scan-form]") : null;
    if (!form) { return; }
    var input = form.querySelector("input[name=code]");
    if (input) {
      input.value = "";
      input.focus();
    }
  });
})();
