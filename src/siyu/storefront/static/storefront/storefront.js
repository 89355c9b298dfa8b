// Siyu storefront: the little the pages need beyond HTML (no framework).
(function () {
  "use strict";

  // <button data-countdown="42" data-countdown-template="Send again in {s} s" data-countdown-done="…">
  function countdown(button) {
    var left = parseInt(button.getAttribute("data-countdown"), 10) || 0;
    var template = button.getAttribute("data-countdown-template") || "{s}";
    function tick() {
      if (left <= 0) {
        button.disabled = false;
        button.textContent = button.getAttribute("data-countdown-done") || button.textContent;
        return;
      }
      button.disabled = true;
      button.textContent = template.replace("{s}", String(left));
      left -= 1;
      window.setTimeout(tick, 1000);
    }
    tick();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-countdown]").forEach(countdown);
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  });
})();
