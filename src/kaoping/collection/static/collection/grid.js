/* Reviewer grid (评审): keyboard navigation between cells, autosave of each cell on change with
   a visible saved/error state, and the side panel (criteria, the unit's narrative and evidence,
   the reason for a deduction). Kaoping's own code; no library needed. */
(function () {
  "use strict";
  var table = document.querySelector("[data-kp-grid]");
  if (!table) return;
  var readonly = table.dataset.readonly === "1";
  var panel = document.getElementById("kp-panel");
  var statusBox = document.getElementById("kp-status");
  var placeholder = panel.innerHTML;
  var csrf = "";
  try {
    csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
  } catch (e) { csrf = ""; }
  var panelTimer = null;
  var panelKey = "";
  var focused = null;

  function urlFor(td) {
    var t = td.parentElement.dataset.t;
    return table.dataset.cellUrl.replace(/\/0\/0\/$/, "/" + t + "/" + td.dataset.i + "/");
  }
  function keyOf(td) { return td.parentElement.dataset.t + ":" + td.dataset.i; }
  function inputOf(td) { return td.querySelector(".kp-in"); }
  function cellOf(el) { return el && el.closest ? el.closest("td.kp-cell") : null; }
  function findCell(t, i) {
    return table.querySelector('tr[data-t="' + t + '"] > td[data-i="' + i + '"]');
  }
  function announce(text) { if (statusBox) statusBox.textContent = text; }

  function focusCell(td) {
    if (!td) return;
    var el = inputOf(td);
    el.focus();
    try { if (el.select) el.select(); } catch (e) { /* selects have no text to select */ }
  }

  function neighbour(td, dr, dc) {
    var tr = td.parentElement;
    var idx = Array.prototype.indexOf.call(tr.cells, td);
    if (dr) {
      tr = dr > 0 ? tr.nextElementSibling : tr.previousElementSibling;
      if (!tr) return null;
    }
    var next = tr.cells[idx + dc];
    return next && next.classList.contains("kp-cell") ? next : null;
  }

  function setState(td, state, message) {
    td.classList.remove("kp-saving", "kp-saved", "kp-error");
    if (state) td.classList.add("kp-" + state);
    var err = td.querySelector(".kp-err");
    if (message) {
      if (!err) {
        err = document.createElement("span");
        err.className = "kp-err";
        err.setAttribute("role", "alert");
        td.appendChild(err);
      }
      err.textContent = message;
    } else if (err) {
      err.remove();
    }
  }

  function panelBodyFor(td) {
    var body = panel.querySelector(".kp-panel-body");
    if (body && td && body.dataset.t === td.parentElement.dataset.t && body.dataset.i === td.dataset.i) {
      return body;
    }
    return null;
  }

  function save(td) {
    if (readonly || !td) return;
    var el = inputOf(td);
    var body = panelBodyFor(td);
    if (el.classList.contains("kp-items") && !body) return;
    var data = new FormData();
    data.append("value", el.value);
    data.append("reason", body ? body.querySelector("[name=reason]").value : (td.dataset.reason || ""));
    if (body) {
      body.querySelectorAll(".kp-occ").forEach(function (o) { data.append(o.name, o.value); });
      if (el.classList.contains("kp-items")) data.append("clear", "1");
    }
    setState(td, "saving");
    fetch(urlFor(td), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "Accept": "application/json" }
    }).then(function (r) {
      return r.json().catch(function () {
        return { ok: false, error: r.status === 403 || r.status === 404 ? "无权修改该单元格" : "保存失败（" + r.status + "）" };
      });
    }).then(function (res) {
      var current = panelBodyFor(td);
      var panelError = current && current.querySelector("[data-kp-panel-error]");
      if (!res.ok) {
        setState(td, "error", res.error);
        if (panelError) panelError.textContent = res.error;
        if (res.code === "reason") showPanel(td, true);
        announce(res.error);
        return;
      }
      el.value = res.value;
      el.dataset.saved = res.value;
      td.dataset.reason = res.reason;
      td.classList.toggle("kp-has-reason", !!res.reason);
      setState(td, "saved");
      if (panelError) panelError.textContent = "";
      var total = td.parentElement.querySelector("[data-total]");
      if (total) total.textContent = res.total;
      var filled = document.querySelector("[data-testid=filled]");
      if (filled) filled.textContent = res.filled;
      announce("已保存");
    }).catch(function () {
      setState(td, "error", "网络错误，未保存，请重试");
    });
  }

  function focusFirstOcc() {
    var occ = panel.querySelector(".kp-occ:not([disabled])");
    if (occ) { occ.focus(); occ.select(); }
  }

  function showPanel(td, now, focusOcc) {
    clearTimeout(panelTimer);
    var run = function () {
      var key = keyOf(td);
      if (panelKey === key && panel.querySelector(".kp-panel-body")) {
        if (focusOcc) focusFirstOcc();
        return;
      }
      panelKey = key;
      fetch(urlFor(td), { credentials: "same-origin", headers: { "HX-Request": "true" } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          if (panelKey !== key) return;
          // Two loads of the same cell's panel can cross (focus, then a refused save): keep
          // the one on screen, with whatever the reviewer has started typing in it.
          if (panelBodyFor(td)) return;
          panel.innerHTML = html;
          // A panel opened after a refused save shows why (e.g. the reason a deduction needs).
          var err = td.classList.contains("kp-error") && td.querySelector(".kp-err");
          var slot = panel.querySelector("[data-kp-panel-error]");
          if (err && slot) slot.textContent = err.textContent;
          if (focusOcc) focusFirstOcc();
        })
        .catch(function () { panelKey = ""; panel.textContent = "加载失败，请重试"; });
    };
    if (now) run(); else panelTimer = setTimeout(run, 250);
  }

  table.addEventListener("focusin", function (ev) {
    var td = cellOf(ev.target);
    if (!td) return;
    if (focused && focused !== td) focused.classList.remove("kp-focus");
    focused = td;
    td.classList.add("kp-focus");
    showPanel(td, false);
  });

  table.addEventListener("change", function (ev) {
    var td = cellOf(ev.target);
    if (td && !ev.target.classList.contains("kp-items")) save(td);
  });

  table.addEventListener("click", function (ev) {
    var td = cellOf(ev.target);
    if (!td) return;
    var el = inputOf(td);
    if (ev.target === td) focusCell(td);
    if (el.classList.contains("kp-items")) showPanel(td, true, !readonly);
  });

  table.addEventListener("keydown", function (ev) {
    var el = ev.target;
    var td = cellOf(el);
    if (!td) return;
    var dr = 0;
    var dc = 0;
    switch (ev.key) {
      case "ArrowUp": dr = -1; break;
      case "ArrowDown": dr = 1; break;
      case "ArrowLeft": dc = -1; break;
      case "ArrowRight": dc = 1; break;
      case "Enter":
        if (el.classList.contains("kp-items")) {
          ev.preventDefault();
          showPanel(td, true, !readonly);
          return;
        }
        dr = ev.shiftKey ? -1 : 1;
        if (el.value !== (el.dataset.saved || "")) save(td);
        break;
      case "Escape":
        el.value = el.dataset.saved || "";
        setState(td, null);
        return;
      default:
        if (el.tagName === "SELECT" && /^[1-9]$/.test(ev.key)) {
          var opt = el.options[Number(ev.key)];
          if (opt) {
            ev.preventDefault();
            el.value = opt.value;
            el.dispatchEvent(new Event("change", { bubbles: true }));
          }
        }
        return;
    }
    ev.preventDefault();
    var next = neighbour(td, dr, dc);
    if (next) focusCell(next);
  });

  panel.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var body = ev.target.closest(".kp-panel-body");
    if (body) save(findCell(body.dataset.t, body.dataset.i));
  });

  panel.addEventListener("change", function (ev) {
    if (ev.target.name !== "reason") return;
    var body = ev.target.closest(".kp-panel-body");
    var td = body && findCell(body.dataset.t, body.dataset.i);
    if (td) {
      td.dataset.reason = ev.target.value;
      if (!inputOf(td).classList.contains("kp-items") || panelBodyFor(td)) save(td);
    }
  });

  panel.addEventListener("click", function (ev) {
    if (ev.target.closest("[data-kp-close]")) {
      panel.innerHTML = placeholder;
      panelKey = "";
      if (focused) focusCell(focused);
    }
  });
})();
