/* Indicator editor: show the rule fields of the chosen rule kind, its JSON example, and fill
   the lower triangle of an AHP matrix with reciprocals. Works on content swapped in by HTMX. */
(function () {
  "use strict";

  function syncRuleFields(form) {
    var kindSelect = form.querySelector("select[name=rule_kind]");
    if (!kindSelect) return;
    var kind = kindSelect.value;
    form.querySelectorAll("[data-kinds]").forEach(function (input) {
      var wrap = input.closest(".kp-field") || input.parentElement;
      var show = kind && input.dataset.kinds.split(" ").indexOf(kind) >= 0;
      wrap.hidden = !show;
    });
    var example = form.querySelector("[data-example]");
    if (example && form.dataset.examples) {
      var examples = JSON.parse(form.dataset.examples);
      example.textContent = kind ? (examples[kind] || "{}") : "（上级指标不设计分规则）";
    }
  }

  function init(root) {
    root.querySelectorAll("form.kp-indicator-form").forEach(syncRuleFields);
  }

  function reciprocal(value) {
    if (value === "1") return "1";
    if (value.indexOf("1/") === 0) return value.slice(2);
    return "1/" + value;
  }

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.name === "rule_kind") {
      var form = el.closest("form.kp-indicator-form");
      if (form) syncRuleFields(form);
    }
    if (el.dataset && el.dataset.ahp) {
      var pair = el.dataset.ahp.split(",");
      var cell = document.getElementById("r_" + pair[1] + "_" + pair[0]);
      if (cell) cell.textContent = reciprocal(el.value);
    }
  });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSwap", function (event) { init(document); });
})();
