// Small behaviours the pages share; no inline scripts, so the CSP stays strict.
(function () {
  "use strict";
  function onReady(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  onReady(function () {
    document.addEventListener("change", function (event) {
      var el = event.target;
      if (el.matches && el.matches("[data-autosubmit]")) { el.form.submit(); }
    });
    var toggle = document.querySelector("[data-toggle-nav]");
    if (toggle) {
      toggle.addEventListener("click", function () {
        var nav = document.getElementById("mainnav");
        var open = nav.classList.toggle("open");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
        if (open) {  // on a phone the menu opens on the area of the page being shown
          var current = nav.querySelector(".nav-area-label.active");
          if (current) { current.parentElement.open = true; }
        }
      });
    }
    // The area menus (<details data-nav-menu>): one open at a time; a click elsewhere or Escape closes it.
    var menus = Array.prototype.slice.call(document.querySelectorAll("details[data-nav-menu]"));
    function closeMenus(except) {
      menus.forEach(function (menu) { if (menu !== except) { menu.open = false; } });
    }
    menus.forEach(function (menu) {
      menu.addEventListener("toggle", function () { if (menu.open) { closeMenus(menu); } });
    });
    document.addEventListener("click", function (event) {
      if (event.target.closest && event.target.closest("details[data-nav-menu], [data-toggle-nav]")) { return; }
      closeMenus(null);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") { return; }
      var open = menus.filter(function (menu) { return menu.open; })[0];
      if (open) {
        open.open = false;
        open.querySelector("summary").focus();
      }
    });
    // A field whose whole value is replaced when typed into (a discount): its text is selected on focus,
    // so typing 10 over a 5 gives 10, not 510. The mouseup of the click that focused it would undo the selection.
    var pressing = false;
    var focusedByClick = null;
    document.addEventListener("mousedown", function () { pressing = true; });
    document.addEventListener("focusin", function (event) {
      var el = event.target;
      if (el.matches && el.matches("input[data-select-on-focus]")) {
        el.select();
        focusedByClick = pressing ? el : null;
      }
    });
    document.addEventListener("mouseup", function (event) {
      if (focusedByClick && event.target === focusedByClick) { event.preventDefault(); }
      pressing = false;
      focusedByClick = null;
    });
    // Ask before destructive actions: <form data-confirm="Really cancel?">
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var question = form.getAttribute && form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) { event.preventDefault(); }
    }, true);
  });
})();
