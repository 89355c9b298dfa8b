// Countdowns of group-buy teams: <span data-gb-left="seconds">…</span> shows h:mm:ss left.
(function () {
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function start() {
    var nodes = document.querySelectorAll("[data-gb-left]");
    if (!nodes.length) return;
    var started = Date.now();
    function tick() {
      var gone = Math.floor((Date.now() - started) / 1000);
      nodes.forEach(function (node) {
        var left = Math.max(0, parseInt(node.getAttribute("data-gb-left"), 10) - gone);
        var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
        node.textContent = h + ":" + pad(m) + ":" + pad(s);
      });
    }
    tick();
    setInterval(tick, 1000);
  }
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.getAttribute("data-copy"));
      if (!input) return;
      input.select();
      if (navigator.clipboard) navigator.clipboard.writeText(input.value);
      button.textContent = button.getAttribute("data-done") || button.textContent;
    });
  });
  // The group-buy checkout re-prices when a choice changes (nothing is placed by a GET).
  document.querySelectorAll("form[data-gb-buy]").forEach(function (form) {
    form.addEventListener("change", function (event) {
      var name = event.target && event.target.name;
      if (["sku", "quantity", "store_id", "address_id"].indexOf(name) < 0) return;
      var params = new URLSearchParams();
      new FormData(form).forEach(function (value, key) {
        if (key !== "csrfmiddlewaretoken" && key !== "note") params.append(key, value);
      });
      window.location.search = params.toString();
    });
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
