/* The public ballot page: one card per target, a review screen, answers kept in localStorage
 * (keyed by a server-made key, never sent anywhere before the form is submitted). Without
 * JavaScript the page is one long form that works as it is. */
(function () {
  "use strict";
  var SENT = "kp-vote-sent";

  function storage(kind) {
    try { return window[kind]; } catch (e) { return null; }
  }
  var local = storage("localStorage");
  var session = storage("sessionStorage");

  // A used ballot, or the thank-you page: forget the answers kept for it.
  var clear = document.querySelector("[data-clear-key]");
  if (clear && local) local.removeItem(clear.getAttribute("data-clear-key"));
  if (document.querySelector('[data-state="thanks"]') && session && local) {
    var sent = session.getItem(SENT);
    if (sent) { local.removeItem(sent); session.removeItem(SENT); }
  }

  var form = document.getElementById("kp-ballot");
  if (!form) return;
  document.documentElement.classList.add("kp-js");
  var key = form.getAttribute("data-store-key");
  var cards = Array.prototype.slice.call(form.querySelectorAll(".kp-target"));
  var review = document.getElementById("kp-review");
  var reviewList = document.getElementById("kp-review-list");
  var prev = document.getElementById("kp-prev");
  var next = document.getElementById("kp-next");
  var submit = document.getElementById("kp-submit");
  var bar = document.getElementById("kp-progress-bar");
  var stepText = document.getElementById("kp-step-text");
  var doneText = document.getElementById("kp-done-text");
  form.querySelector(".kp-progress").hidden = false;
  var step = 0;

  function load() {
    if (!local || !key) return {};
    try { return JSON.parse(local.getItem(key) || "{}"); } catch (e) { return {}; }
  }
  function save() {
    if (!local || !key) return;
    var data = { _step: step };
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.type === "radio" && el.checked) data[el.name] = el.value;
      else if (el.tagName === "TEXTAREA" && el.value) data[el.name] = el.value;
    });
    try { local.setItem(key, JSON.stringify(data)); } catch (e) { /* full or private mode */ }
  }
  function restore(data) {
    Object.keys(data).forEach(function (name) {
      if (name === "_step") return;
      var value = String(data[name]);
      var els = form.elements[name];
      if (!els) return;
      if (els.tagName === "TEXTAREA") { if (!els.value) els.value = value; return; }
      var list = els.length !== undefined ? els : [els];
      var anyChecked = Array.prototype.some.call(list, function (r) { return r.checked; });
      if (anyChecked) return;
      Array.prototype.forEach.call(list, function (r) { if (r.value === value) r.checked = true; });
    });
  }
  function missing(card) {
    return Array.prototype.filter.call(card.querySelectorAll("fieldset.kp-q"), function (fs) {
      return !fs.querySelector("input:checked");
    });
  }
  function firstIncomplete() {
    for (var i = 0; i < cards.length; i++) if (missing(cards[i]).length) return i;
    return cards.length;
  }
  function doneCount() {
    return cards.filter(function (c) { return !missing(c).length; }).length;
  }
  function buildReview() {
    reviewList.innerHTML = "";
    cards.forEach(function (card, i) {
      var box = document.createElement("div");
      box.className = "border-bottom py-2";
      var head = document.createElement("div");
      head.className = "d-flex justify-content-between align-items-center";
      var name = document.createElement("strong");
      name.textContent = card.getAttribute("data-name");
      var edit = document.createElement("button");
      edit.type = "button";
      edit.className = "btn btn-link btn-sm";
      edit.textContent = "修改";
      edit.addEventListener("click", function () { show(i); });
      head.appendChild(name);
      head.appendChild(edit);
      box.appendChild(head);
      Array.prototype.forEach.call(card.querySelectorAll("fieldset.kp-q"), function (fs) {
        var checked = fs.querySelector("input:checked");
        var label = checked ? form.querySelector('label[for="' + checked.id + '"]').textContent : "未选择";
        var line = document.createElement("div");
        line.className = "small kp-review-answer";
        line.textContent = fs.getAttribute("data-text") + "：" + label;
        box.appendChild(line);
      });
      var comment = card.querySelector("textarea");
      if (comment && comment.value.trim()) {
        var c = document.createElement("div");
        c.className = "small text-secondary";
        c.textContent = "意见建议：" + comment.value.trim();
        box.appendChild(c);
      }
      reviewList.appendChild(box);
    });
  }
  function progress() {
    var done = doneCount();
    bar.style.width = Math.round((100 * done) / cards.length) + "%";
    doneText.textContent = "已完成 " + done + " / " + cards.length;
    stepText.textContent = step < cards.length ? "第 " + (step + 1) + " / " + cards.length + " 个" : "核对并提交";
  }
  function show(i) {
    step = Math.max(0, Math.min(i, cards.length));
    cards.forEach(function (card, j) { card.hidden = j !== step; });
    review.hidden = step !== cards.length;
    prev.hidden = step === 0;
    next.hidden = step >= cards.length;
    submit.hidden = step < cards.length;
    next.textContent = step === cards.length - 1 ? "核对" : "下一个";
    if (step === cards.length) buildReview();
    progress();
    save();
    window.scrollTo(0, 0);
  }
  function flag(card) {
    var gaps = missing(card);
    gaps.forEach(function (fs) { fs.classList.add("kp-missing"); });
    if (gaps.length) gaps[0].scrollIntoView({ block: "center" });
    return gaps.length === 0;
  }

  form.addEventListener("change", function (ev) {
    var fs = ev.target.closest("fieldset.kp-q");
    if (fs) fs.classList.remove("kp-missing");
    save();
    progress();
  });
  form.addEventListener("input", save);
  prev.addEventListener("click", function () { show(step - 1); });
  next.addEventListener("click", function () { if (flag(cards[step])) show(step + 1); });
  form.addEventListener("submit", function (ev) {
    var gap = firstIncomplete();
    if (gap < cards.length) {
      ev.preventDefault();
      show(gap);
      flag(cards[gap]);
      return;
    }
    if (session && key) session.setItem(SENT, key);
    setTimeout(function () { submit.disabled = true; }, 0);
  });

  var saved = load();
  restore(saved);
  var hasErrors = !!document.getElementById("kp-errors");
  var start = hasErrors ? firstIncomplete() : Math.min(Number(saved._step) || 0, firstIncomplete());
  show(start);
})();
