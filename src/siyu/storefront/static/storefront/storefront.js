// Siyu storefront: the little the pages need beyond HTML (no framework). Every page works
// without it; this adds the resend countdown, confirmations, the SKU chooser's live price and
// stock, the quantity stepper, "stores near me" and the payment result's status polling.
(function () {
  "use strict";

  function $$(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }

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

  // ¥26.00 as the pages write it: <small>¥</small>26<small>.00</small>
  function priceHtml(fen, symbol) {
    var whole = Math.floor(Math.abs(fen) / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var cents = ("0" + (Math.abs(fen) % 100)).slice(-2);
    return (fen < 0 ? "-" : "") + "<small>" + symbol + "</small>" + whole + "<small>." + cents + "</small>";
  }

  // <form data-sku-form> with option radios named option-0, option-1… and <script id="sku-data">
  function skuChooser(form) {
    var data = document.getElementById("sku-data");
    if (!data) return;
    var skus = JSON.parse(data.textContent);
    var field = form.querySelector("input[name=sku_id]");
    var price = document.querySelector("[data-sku-price]");
    var was = document.querySelector("[data-sku-was]");
    var stock = document.querySelector("[data-sku-stock]");
    var symbol = price ? price.getAttribute("data-symbol") || "¥" : "¥";
    var groups = $$("fieldset[data-option]", form);

    function chosen() {
      return groups.map(function (group) {
        var input = group.querySelector("input:checked");
        return input ? input.value : null;
      });
    }
    function find(values) {
      return skus.filter(function (sku) {
        return sku.values.every(function (v, i) { return values[i] === null || values[i] === v; });
      });
    }
    function update() {
      var values = chosen();
      var match = values.indexOf(null) === -1 ? find(values)[0] : null;
      field.value = match ? match.id : "";
      if (match && price) price.innerHTML = priceHtml(match.price, symbol);
      if (was) {
        was.hidden = !(match && match.list_price && match.list_price > match.price);
        if (!was.hidden) was.innerHTML = priceHtml(match.list_price, symbol);
      }
      if (stock) {
        var state = match ? match.stock : null;
        stock.hidden = !state;
        if (state) {
          stock.className = "sf-tag " + (state === "sold_out" ? "sf-tag-out" : state === "low" ? "sf-tag-low" : "sf-tag-ok");
          stock.textContent = (stock.getAttribute("data-text-" + state) || "").replace("{n}", match.left);
        }
      }
      $$("button[data-needs-stock]", form).forEach(function (button) {
        button.disabled = !match || match.stock === "sold_out";
      });
      // values that cannot be bought with the other choices look crossed out
      groups.forEach(function (group, index) {
        $$("input", group).forEach(function (input) {
          var probe = values.slice();
          probe[index] = input.value;
          var options = find(probe);
          var buyable = options.some(function (sku) { return sku.stock !== "sold_out"; });
          input.parentNode.classList.toggle("is-out", !buyable);
        });
      });
    }
    form.addEventListener("change", update);
    update();
  }

  // <span data-stepper><button data-step="-1"><input type=number min max><button data-step="1">
  function stepper(box) {
    var input = box.querySelector("input");
    if (!input) return;
    function clamp(n) {
      var min = parseInt(input.min || "1", 10);
      var max = parseInt(input.max || "99", 10);
      return Math.max(min, Math.min(max, n));
    }
    function sync() {
      var n = parseInt(input.value, 10) || 1;
      $$("button[data-step]", box).forEach(function (b) {
        var step = parseInt(b.getAttribute("data-step"), 10);
        b.disabled = clamp(n + step) === n;
      });
    }
    $$("button[data-step]", box).forEach(function (button) {
      button.addEventListener("click", function () {
        input.value = clamp((parseInt(input.value, 10) || 1) + parseInt(button.getAttribute("data-step"), 10));
        sync();
      });
    });
    input.addEventListener("input", sync);
    sync();
  }

  // <button data-geolocate="/s/shop/stores/?next=…" [data-geolocate-auto]>: reload with ?lat=&lng=
  function geolocate(button) {
    if (!("geolocation" in navigator)) return;
    button.hidden = false;
    var note = document.querySelector("[data-geolocate-note]");
    function go() {
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(
        function (position) {
          var url = new URL(button.getAttribute("data-geolocate"), window.location.href);
          url.searchParams.set("lat", position.coords.latitude.toFixed(6));
          url.searchParams.set("lng", position.coords.longitude.toFixed(6));
          window.location.replace(url.toString());
        },
        function () {
          button.disabled = false;
          if (note) note.textContent = note.getAttribute("data-geolocate-note");
        },
        { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 }
      );
    }
    button.addEventListener("click", go);
    if (button.hasAttribute("data-geolocate-auto")) go();
  }

  // <div data-poll="/api/…/orders/7" data-poll-every="2" data-poll-tries="90">: reload once the
  // order is no longer waiting for payment; give up (and say so) after the tries.
  function poll(box) {
    var url = box.getAttribute("data-poll");
    var every = (parseFloat(box.getAttribute("data-poll-every")) || 2) * 1000;
    var tries = parseInt(box.getAttribute("data-poll-tries"), 10) || 60;
    var giveUp = document.querySelector("[data-poll-giveup]");
    function ask() {
      if (tries-- <= 0) {
        if (giveUp) giveUp.hidden = false;
        return;
      }
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (order) {
          if (order && order.status !== "pending_payment") window.location.reload();
          else window.setTimeout(ask, every);
        })
        .catch(function () { window.setTimeout(ask, every); });
    }
    window.setTimeout(ask, every);
  }

  document.addEventListener("DOMContentLoaded", function () {
    $$("[data-countdown]").forEach(countdown);
    $$("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
    // <form data-once>: a second tap while the first submit is on its way sends nothing
    $$("form[data-once]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.getAttribute("data-sent")) {
          event.preventDefault();
          return;
        }
        form.setAttribute("data-sent", "1");
      });
    });
    $$("form[data-sku-form]").forEach(skuChooser);
    $$("[data-stepper]").forEach(stepper);
    $$("[data-geolocate]").forEach(geolocate);
    $$("[data-poll]").forEach(poll);
    $$("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  });
})();
