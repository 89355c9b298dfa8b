/* The segment rule builder (Alpine.js). Keeps a tree of groups and conditions, writes the
   rule JSON of the segment language (docs/segments.md) and asks the server for a live count
   (debounced); a 422 names the clause at fault, which is highlighted. */
(function () {
  "use strict";
  let nextId = 1;
  const NUMERIC = ["number", "days_since", "window"];

  function csrf() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  window.ruleBuilder = function (dataId, textId, previewUrl) {
    const data = JSON.parse(document.getElementById(dataId).textContent);
    const text = JSON.parse(document.getElementById(textId).textContent);
    const fields = data.fields;
    const byName = Object.fromEntries(fields.map((f) => [f.name, f]));

    function group(mode) {
      return { id: nextId++, type: "group", mode: mode || "all", negate: false, children: [] };
    }
    function leaf(name) {
      const node = { id: nextId++, type: "leaf", negate: false, field: name || fields[0].name };
      reset(node);
      return node;
    }
    function reset(node) {
      const spec = byName[node.field];
      node.op = spec.ops[0];
      node.a = "";
      node.b = "";
      node.bool = "true";
      node.list = [];
      node.textValue = "";
      node.days = spec.params.includes("days") ? (spec.name === "category_orders" ? "" : 90) : "";
      node.category = data.choices.category.length ? data.choices.category[0].id : null;
      node.channel = spec.choices.length ? spec.choices[0] : "";
    }
    function fromRule(rule) {
      if (rule && rule.not !== undefined) {
        let inner = fromRule(rule.not);
        if (inner.negate) { const g = group("all"); g.children.push(inner); inner = g; }
        inner.negate = true;
        return inner;
      }
      if (rule && (rule.all || rule.any)) {
        const g = group(rule.all ? "all" : "any");
        g.children = (rule.all || rule.any).map(fromRule);
        return g;
      }
      const node = leaf(byName[rule && rule.field] ? rule.field : undefined);
      if (!rule || !byName[rule.field]) return node;
      const spec = byName[rule.field];
      node.op = rule.op;
      const money = spec.money ? 100 : 1;
      if (Array.isArray(rule.value) && NUMERIC.includes(spec.kind)) {
        node.a = rule.value[0] / money; node.b = rule.value[1] / money;
      } else if (typeof rule.value === "number") {
        node.a = rule.value / money;
      } else if (typeof rule.value === "boolean") {
        node.bool = String(rule.value);
      } else if (Array.isArray(rule.value)) {
        node.list = rule.value.map(String);
        node.textValue = rule.value.join(", ");
      } else if (typeof rule.value === "string") {
        node.list = [rule.value];
      }
      if (rule.days !== undefined) node.days = rule.days;
      if (rule.category !== undefined) node.category = rule.category;
      if (rule.channel !== undefined) node.channel = rule.channel;
      return node;
    }

    function inputKind(node) {
      const spec = byName[node.field];
      if (NUMERIC.includes(spec.kind)) return "number";
      if (["is", "in_any_group", "is_empty", "refused"].includes(node.op)) return "bool";
      if (node.op === "this_month") return "none";
      if (spec.kind === "texts") return "text";
      return "pick";
    }
    function num(v, money) {
      const n = Number(v);
      if (v === "" || v === null || Number.isNaN(n)) return v;
      return money ? Math.round(n * 100) : Math.round(n);
    }
    function toRule(node) {
      let rule;
      if (node.type === "group") {
        rule = { [node.mode]: node.children.map(toRule) };
      } else {
        const spec = byName[node.field];
        rule = { field: node.field, op: node.op };
        const kind = inputKind(node);
        if (kind === "number") {
          rule.value = node.op === "between" ? [num(node.a, spec.money), num(node.b, spec.money)] : num(node.a, spec.money);
        } else if (kind === "bool") {
          rule.value = node.bool === "true";
        } else if (kind === "text") {
          rule.value = node.textValue.split(/[,，]/).map((s) => s.trim()).filter((s, i, all) => s || all.length === 1);
        } else if (kind === "pick") {
          const ids = ["tags", "groups", "ids", "month"].includes(spec.kind);
          const values = node.list.map((v) => (ids ? Number(v) : v));
          rule.value = node.op === "eq" ? values[0] : values;
        }
        if (spec.params.includes("days") && node.days !== "" && node.days !== null) rule.days = num(node.days, false);
        if (spec.params.includes("category")) rule.category = node.category;
        if (spec.params.includes("channel")) rule.channel = node.channel;
      }
      return node.negate ? { not: rule } : rule;
    }

    return {
      fields,
      text,
      choices: data.choices,
      root: (function () { const r = fromRule(data.rule); return r.type === "group" && !r.negate ? r : Object.assign(group("all"), { children: [r] }); })(),
      json: "",
      count: null,
      error: "",
      errorPath: null,
      loading: false,
      timer: null,
      init() { this.changed(); },
      spec(node) { return byName[node.field]; },
      inputKind,
      options(node) {
        const spec = byName[node.field];
        if (data.choices[node.field]) return data.choices[node.field];
        if (spec.kind === "month") return Array.from({ length: 12 }, (_, i) => ({ id: i + 1, label: String(i + 1) }));
        return spec.choices.map((c) => ({ id: c, label: (text.choices && text.choices[c]) || c || "—" }));
      },
      rows() {
        const out = [];
        const walk = (node, depth, path, parent) => {
          const own = node.negate ? (path ? path + ".not" : "not") : path;
          out.push({ node, depth, path, parent });
          if (node.type === "group") {
            node.children.forEach((child, i) => walk(child, depth + 1, (own ? own + "." : "") + node.mode + "[" + i + "]", node));
          }
        };
        walk(this.root, 0, "", null);
        return out;
      },
      addLeaf(node) { node.children.push(leaf()); this.changed(); },
      addGroup(node) { const g = group(node.mode === "all" ? "any" : "all"); g.children.push(leaf()); node.children.push(g); this.changed(); },
      remove(row) { row.parent.children = row.parent.children.filter((c) => c !== row.node); this.changed(); },
      resetLeaf(node) { reset(node); this.changed(); },
      changed() {
        this.json = JSON.stringify(toRule(this.root));
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.preview(), 400);
      },
      async preview() {
        this.loading = true;
        const body = this.json;
        try {
          const response = await fetch(previewUrl, {
            method: "POST",
            headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
            body: JSON.stringify({ rule: JSON.parse(body) }),
            credentials: "same-origin",
          });
          const answer = await response.json();
          if (body !== this.json) return;  // a newer edit is on its way
          if (response.ok) { this.count = answer.count; this.error = ""; this.errorPath = null; }
          else { this.count = null; this.error = answer.message || text.invalid; this.errorPath = answer.path; }
        } catch (e) {
          this.error = text.offline; this.count = null;
        } finally {
          this.loading = false;
        }
      },
    };
  };
})();
