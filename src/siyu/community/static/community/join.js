/* The join page of a code (community/shop/join.html): a store-finder code asks the browser for
 * its position (hidden latitude/longitude) and falls back to the store chooser; after the
 * login (?go=1) the page submits the join form by itself (a normal POST with its CSRF token). */
(function () {
  "use strict";
  var form = document.querySelector("[data-join-form]");
  if (!form) return;
  var lat = form.querySelector("[name=latitude]");
  var lng = form.querySelector("[name=longitude]");
  var button = form.querySelector("[data-join-button]");
  var chooser = document.querySelector("[data-store-chooser]");

  function showChooser() {
    if (button) button.disabled = false;
    if (chooser) {
      chooser.hidden = false;
      chooser.scrollIntoView({ behavior: "smooth", block: "start" });
    } else {
      form.submit();
    }
  }

  function go() {
    if (!lat || lat.value || !navigator.geolocation) {
      form.submit();
      return;
    }
    if (button) button.disabled = true;
    navigator.geolocation.getCurrentPosition(
      function (position) {
        lat.value = position.coords.latitude.toFixed(6);
        lng.value = position.coords.longitude.toFixed(6);
        form.submit();
      },
      showChooser,
      { timeout: 10000, maximumAge: 600000 }
    );
  }

  form.addEventListener("submit", function (event) {
    if (lat && !lat.value && navigator.geolocation) {
      event.preventDefault();
      go();
    }
  });
  if (form.hasAttribute("data-join-auto")) go();
})();
