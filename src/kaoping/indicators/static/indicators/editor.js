/* Indicator editor: show the rule fields of the chosen rule kind, its JSON example, fill the
   lower triangle of an AHP matrix with reciprocals, add and remove rows of a list (evidence,
   grades) and keep live sums (weights, points, rater-group weights) red until they are right.
   Works on content swapped in by HTMX. */
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

  // ---- rows added and removed in the page ([data-rows-container]) ----------------------
  // Each row's controls carry data-label ("佐证材料 {n}"), renumbered into aria-label; a
  // control marked data-row-index posts its row number (the evidence "可选" checkbox).
  function renumber(container) {
    container.querySelectorAll("[data-rows] > [data-row]").forEach(function (row, k) {
      row.querySelectorAll("[data-label]").forEach(function (el) {
        el.setAttribute("aria-label", el.dataset.label.replace("{n}", String(k + 1)));
      });
      row.querySelectorAll("[data-row-index]").forEach(function (el) {
        el.value = String(k);
      });
    });
  }

  function addRow(container) {
    var template = container.querySelector("template[data-row-template]");
    var body = container.querySelector("[data-rows]");
    if (!template || !body) return;
    var row = template.content.firstElementChild.cloneNode(true);
    body.appendChild(row);
    renumber(container);
    var first = row.querySelector("input, select, textarea");
    if (first) first.focus();
  }

  function removeRow(button) {
    var container = button.closest("[data-rows-container]");
    var row = button.closest("[data-row]");
    if (!container || !row) return;
    var next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    renumber(container);
    var focus = next && next.querySelector("input");
    (focus || container.querySelector("[data-add-row]")).focus();
    updateSums(container);
  }

  // ---- live sums ([data-live-sum] with data-sum-target, inputs marked data-sum-part) ------
  function formatNumber(x) {
    return String(Math.round(x * 10000) / 10000);
  }

  function updateSum(box) {
    var target = parseFloat(box.dataset.sumTarget);
    var unit = box.dataset.sumUnit || "";
    var total = 0;
    var bad = false;
    box.querySelectorAll("input[data-sum-part]").forEach(function (input) {
      var text = input.value.trim();
      if (text === "") return;
      var x = Number(text);
      if (!isFinite(x)) bad = true;
      else total += x;
    });
    var ok = !bad && isFinite(target) && Math.abs(total - target) < 0.005;
    box.querySelectorAll("[data-sum-output]").forEach(function (out) {
      out.textContent = bad ? "有非数字" : formatNumber(total) + unit;
      out.classList.toggle("text-success", ok);
      out.classList.toggle("text-danger", !ok);
      out.title = ok ? "合计正确" : "合计应为 " + formatNumber(target) + unit;
    });
    box.dataset.sumOk = ok ? "true" : "false";
  }

  function updateSums(root) {
    var box = root.closest && root.closest("[data-live-sum]");
    if (box) updateSum(box);
    root.querySelectorAll("[data-live-sum]").forEach(updateSum);
  }

  function init(root) {
    root.querySelectorAll("form.kp-indicator-form").forEach(syncRuleFields);
    root.querySelectorAll("[data-live-sum]").forEach(updateSum);
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-row]");
    if (add) {
      var container = add.closest("[data-rows-container]");
      if (container) addRow(container);
      return;
    }
    var remove = event.target.closest("[data-remove-row]");
    if (remove) removeRow(remove);
  });

  document.addEventListener("input", function (event) {
    var box = event.target.closest && event.target.closest("[data-live-sum]");
    if (box && event.target.matches("[data-sum-part]")) updateSum(box);
  });

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
