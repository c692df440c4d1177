// Paper ballot entry: digits pick grades and move on; Tab/Enter move; buttons for the mouse.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("kp-sheet");
  if (!form) return;
  const max = Number(form.dataset.grades || 4);
  const fields = () => Array.from(form.querySelectorAll("#sheet_no, input.kp-cell, input.kp-comment"));
  const mark = (input) => {
    const group = input.parentElement.querySelector(".btn-group");
    if (!group) return;
    group.querySelectorAll(".kp-grade-btn").forEach((b) => {
      const on = b.dataset.value === input.value;
      b.classList.toggle("active", on);
      b.classList.toggle("btn-danger", on);
      b.classList.toggle("btn-outline-secondary", !on);
    });
  };
  const next = (el) => {
    const list = fields();
    const i = list.indexOf(el);
    if (i >= 0 && i + 1 < list.length) list[i + 1].focus();
    else document.getElementById("kp-sheet-save").focus();
  };
  form.querySelectorAll("input.kp-cell").forEach((input) => {
    mark(input);
    input.addEventListener("keydown", (ev) => {
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      const d = Number(ev.key);
      if (ev.key.length === 1 && d >= 1 && d <= max) {
        ev.preventDefault();
        input.value = String(d);
        mark(input);
        next(input);
      } else if (ev.key === "0" || ev.key === " ") {
        ev.preventDefault();
        input.value = "";
        mark(input);
      } else if (ev.key === "Enter") {
        ev.preventDefault();
        next(input);
      } else if (ev.key.length === 1) {
        ev.preventDefault();
      }
    });
    input.addEventListener("input", () => mark(input));
  });
  form.querySelectorAll(".kp-grade-btn").forEach((btn) => {
    btn.addEventListener("click", () => {
      const input = btn.closest("td").querySelector("input.kp-cell");
      input.value = input.value === btn.dataset.value ? "" : btn.dataset.value;
      mark(input);
      input.focus();
    });
  });
  const sheetNo = document.getElementById("sheet_no");
  sheetNo.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      ev.preventDefault();
      next(sheetNo);
    }
  });
  form.querySelectorAll("input.kp-comment").forEach((c) => c.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      ev.preventDefault();
      next(c);
    }
  }));
});
