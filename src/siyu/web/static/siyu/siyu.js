// Siyu console behaviour shared by every page: charts, confirmations, copy buttons.
(function () {
  "use strict";

  function renderCharts(root) {
    if (!window.echarts) return;
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.rendered) return;
      var source = document.getElementById(el.dataset.chart);
      if (!source) return;
      var option = JSON.parse(source.textContent);
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption(option);
      el.dataset.rendered = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  function onReady(root) {
    renderCharts(root);
    root.querySelectorAll("[data-confirm]").forEach(function (el) {
      if (el.dataset.confirmBound) return;
      el.dataset.confirmBound = "1";
      var event = el.tagName === "FORM" ? "submit" : "click";
      el.addEventListener(event, function (e) {
        if (!window.confirm(el.dataset.confirm)) { e.preventDefault(); e.stopImmediatePropagation(); }
      });
    });
    root.querySelectorAll("[data-copy]").forEach(function (el) {
      if (el.dataset.copyBound) return;
      el.dataset.copyBound = "1";
      el.addEventListener("click", function () {
        var target = document.getElementById(el.dataset.copy);
        if (!target) return;
        var text = target.value || target.textContent;
        if (navigator.clipboard) navigator.clipboard.writeText(text.trim());
        el.textContent = el.dataset.copied || "✓";
      });
    });
    root.querySelectorAll("[data-select-all]").forEach(function (box) {
      if (box.dataset.bound) return;
      box.dataset.bound = "1";
      box.addEventListener("change", function () {
        document.querySelectorAll(box.dataset.selectAll).forEach(function (c) { c.checked = box.checked; });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { onReady(document); });
  document.addEventListener("htmx:afterSettle", function (e) { onReady(e.target); });
  window.addEventListener("load", function () { renderCharts(document); });
})();
