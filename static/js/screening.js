/* Keyboard-first screening: every key clicks a real button of the htmx forms, so mouse and
   keyboard take the same path. ←/→ walk the records seen in this session. */
(function () {
  "use strict";
  let visited = [];
  let idx = -1;
  let navigating = false;
  let lastDecided = null;
  let busy = false; // one request at a time: a held-down key never double-submits
  document.addEventListener("htmx:beforeRequest", (e) => { if (panel() && panel().contains(e.detail.elt)) busy = true; });
  document.addEventListener("htmx:afterRequest", () => { busy = false; });

  const panel = () => document.getElementById("panel");
  const currentId = () => {
    const el = document.querySelector("#panel [data-record-id]");
    return el && el.dataset.recordId ? el.dataset.recordId : null;
  };
  const queryTail = () => {
    const p = panel();
    return "&order=" + encodeURIComponent(p.dataset.order) + "&filter=" + encodeURIComponent(p.dataset.filter);
  };
  const load = (params) => htmx.ajax("GET", panel().dataset.recordUrl + "?" + params + queryTail(), { target: "#panel", swap: "innerHTML" });

  function remember() {
    const id = currentId();
    if (!id) return;
    if (navigating) { navigating = false; return; }
    if (visited[idx] !== id) {
      visited = visited.slice(0, idx + 1);
      visited.push(id);
      idx = visited.length - 1;
    }
  }

  function go(step) {
    if (step < 0) {
      if (idx > 0) { idx -= 1; navigating = true; load("r=" + visited[idx]); }
      else if (lastDecided) { load("r=" + lastDecided); }
      return;
    }
    if (idx < visited.length - 1) { idx += 1; navigating = true; load("r=" + visited[idx]); }
    else if (currentId()) { load("after=" + currentId()); }
  }

  document.addEventListener("htmx:afterSwap", (e) => { if (e.target.id === "panel") remember(); });
  document.addEventListener("DOMContentLoaded", remember);
  function setResume(form) {
    // Going back to change a vote: afterwards, return to the furthest record of the session.
    const resume = form.querySelector("#resume");
    if (resume) resume.value = idx < visited.length - 1 ? visited[visited.length - 1] : "";
  }

  // Keys post through htmx.ajax with the form as source (its fields, CSRF header), so a key
  // pressed the instant a new record is swapped in never depends on htmx having bound it.
  function post(form, values) {
    return htmx.ajax("POST", form.getAttribute("hx-post"), {
      source: form, target: "#panel", swap: "innerHTML", values: values,
    });
  }

  document.addEventListener("submit", (e) => {
    if (e.target.id !== "decide-form") return;
    lastDecided = currentId();
    setResume(e.target);
  }, true);
  document.addEventListener("click", (e) => {
    const nav = e.target.closest("[data-nav]");
    if (nav) go(nav.dataset.nav === "prev" ? -1 : 1);
  });

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || !panel()) return;
    const t = e.target;
    if (t.matches && t.matches("input[type=text], input[type=search], textarea, select")) {
      if (e.key === "Escape") t.blur();
      return;
    }
    const k = e.key.toLowerCase();
    const form = document.getElementById("decide-form");
    if (form && (k === "i" || k === "e" || k === "m")) {
      e.preventDefault();
      if (busy) return;
      lastDecided = currentId();
      setResume(form);
      post(form, { decision: form.querySelector('button[data-key="' + k + '"]').value });
    } else if (form && /^[1-9]$/.test(k)) {
      const r = form.querySelector('input[name=reason][data-key="' + k + '"]');
      if (r) { e.preventDefault(); r.checked = true; r.focus(); }
    } else if (form && k === "n") {
      e.preventDefault();
      form.querySelector("textarea[name=note]").focus();
    } else if (k === "u") {
      const undo = document.getElementById("undo-form");
      const id = lastDecided || currentId();
      if (undo && id && !busy) {
        e.preventDefault();
        undo.querySelector("#undo-record").value = id;
        lastDecided = null;
        post(undo, { record: id });
      }
    } else if (k === "arrowleft" || k === "k") {
      e.preventDefault(); go(-1);
    } else if (k === "arrowright" || k === "j") {
      e.preventDefault(); go(1);
    }
  });
})();
