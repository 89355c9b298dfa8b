// The SKU rows of the product form: add and remove rows, one input per option name.
// The server renders the starting state as JSON (#sku-state); the rows post as plain
// fields (sku-0-code, sku-0-opt-1, sku-0-price...), counted by the hidden "sku_rows".
(function () {
  "use strict";
  var SEPARATORS = /[,，、;；\n]+/;

  function splitNames(text) {
    return (text || "").split(SEPARATORS).map(function (s) { return s.trim(); })
      .filter(function (s) { return s.length > 0; }).slice(0, 3);
  }

  document.addEventListener("alpine:init", function () {
    window.Alpine.data("skuEditor", function () {
      return {
        optionText: "",
        rows: [],
        nextKey: 0,
        init: function () {
          var source = document.getElementById(this.$el.dataset.state);
          var state = source ? JSON.parse(source.textContent) : { rows: [] };
          var input = this.$el.querySelector("[name=option_names]");
          this.optionText = input ? input.value : (state.optionNames || []).join(", ");
          var self = this;
          this.rows = (state.rows || []).map(function (row) { return self.keyed(row); });
          if (this.rows.length === 0) this.addRow();
        },
        get optionNames() { return splitNames(this.optionText); },
        keyed: function (row) {
          this.nextKey += 1;
          row.key = this.nextKey;
          row.values = row.values || [];
          row.errors = row.errors || {};
          return row;
        },
        addRow: function () {
          this.rows.push(this.keyed({
            id: null, code: "", values: [], price: "", list_price: "",
            barcode: "", weight: "", active: true,
          }));
        },
        removeRow: function (index) {
          if (this.rows.length > 1) this.rows.splice(index, 1);
        },
      };
    });
  });
})();
