/* Reader: turn a browser selection into character offsets of the stored document text.
 *
 * The server renders the text as <span data-offset="N">…</span> runs whose text nodes are
 * exact slices of Document.text, so an offset is the run's data-offset plus the position
 * inside its text node. Python counts code points and JavaScript UTF-16 units, hence the
 * Array.from() conversions. No framework; htmx re-renders #reader-body after each action.
 */
(function () {
  "use strict";

  function container() { return document.getElementById("doc-text"); }

  function cp(str) { return Array.from(str).length; }

  // Offset (in code points) of a DOM point inside the document text, or null.
  function pointOffset(root, node, off) {
    if (node.nodeType === Node.TEXT_NODE) {
      const run = node.parentElement && node.parentElement.closest("[data-offset]");
      if (!run || !root.contains(run)) return null;
      return Number(run.dataset.offset) + cp(node.data.slice(0, off));
    }
    // An element boundary: use the first text run at or after that child.
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const probe = document.createRange();
    probe.setStart(node, off);
    let t;
    while ((t = walker.nextNode())) {
      if (probe.comparePoint(t, 0) >= 0) {
        const run = t.parentElement.closest("[data-offset]");
        if (run) return Number(run.dataset.offset);
      }
    }
    return Number(root.dataset.length);
  }

  function fullText(root) {
    let s = "";
    root.querySelectorAll("[data-offset]").forEach(function (r) { s += r.textContent; });
    return Array.from(s);
  }

  function currentSelection() {
    const root = container();
    const sel = window.getSelection();
    if (!root || !sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    const range = sel.getRangeAt(0);
    if (!root.contains(range.commonAncestorContainer) && range.commonAncestorContainer !== root) {
      return null;
    }
    let start = pointOffset(root, range.startContainer, range.startOffset);
    let end = pointOffset(root, range.endContainer, range.endOffset);
    if (start === null || end === null || end <= start) return null;
    const chars = fullText(root);
    while (start < end && /\s/.test(chars[start])) start++;  // trim white space at the edges
    while (end > start && /\s/.test(chars[end - 1])) end--;
    if (end <= start) return null;
    return { start: start, end: end, text: chars.slice(start, end).join("") };
  }

  function showSelection() {
    const s = currentSelection();
    const preview = document.getElementById("selection-preview");
    if (!preview) return;
    if (!s) return;
    document.getElementById("sel-start").value = s.start;
    document.getElementById("sel-end").value = s.end;
    document.getElementById("sel-text").value = s.text;
    const short = s.text.length > 160 ? s.text.slice(0, 160) + "…" : s.text;
    preview.textContent = "“" + short + "” (characters " + s.start + "–" + s.end + ")";
    preview.classList.remove("muted");
  }

  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" ||
      el.isContentEditable);
  }

  document.addEventListener("selectionchange", showSelection);
  document.addEventListener("mouseup", showSelection);

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(document.activeElement)) {
      if (ev.key === "Escape" && typing(document.activeElement)) document.activeElement.blur();
      return;
    }
    if (ev.key === "x") {
      showSelection();
      const form = document.getElementById("excerpt-form");
      if (form && document.getElementById("sel-start").value) {
        ev.preventDefault();
        form.requestSubmit();
      }
    } else if (ev.key === "a") {
      const q = document.getElementById("attach-q");
      if (q) {
        ev.preventDefault();
        // Right after a swap htmx may not have wired the new search box yet (it does so as
        // the swap settles): a reviewer who types at once would get no results at all.
        if (window.htmx) htmx.process(q);
        q.focus();
      }
    } else if (ev.key === "c") {
      const b = document.getElementById("new-cmoc");
      if (b) { ev.preventDefault(); b.click(); }
    } else if (ev.key === "Escape") {
      window.getSelection().removeAllRanges();
    }
  });

  // In the attach search, Enter picks the first match when none is chosen.
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Enter" || !ev.target || ev.target.id !== "attach-q") return;
    const form = ev.target.form;
    if (!form.querySelector("input[name=cmoc]:checked")) {
      const first = form.querySelector("input[name=cmoc]");
      if (first) first.checked = true;
    }
  });

  // Clicking a highlighted run selects its (innermost) excerpt.
  document.addEventListener("click", function (ev) {
    const run = ev.target.closest && ev.target.closest("#doc-text .hl");
    if (!run || !window.getSelection().isCollapsed) return;
    const ids = run.dataset.excerpts.split(" ");
    const item = document.getElementById("excerpt-" + ids[ids.length - 1]);
    if (item) { const a = item.querySelector("a"); if (a) a.click(); }
  });

  // Keep the current excerpt in view after a reload or an htmx re-render of the reader.
  function revealCurrent() {
    const hl = document.querySelector("#doc-text .hl.current");
    if (hl) hl.scrollIntoView({ block: "center" });
  }
  document.addEventListener("DOMContentLoaded", revealCurrent);
  document.addEventListener("htmx:afterSettle", function (ev) {
    const t = ev.detail.target;  // with outerHTML swaps this may be the replaced node
    if (t && (t.id === "reader-body" || !t.isConnected)) revealCurrent();
  });

  // After htmx swaps the reader, focus the new CMOC panel's first field.
  document.addEventListener("htmx:afterSwap", function (ev) {
    if (ev.detail.target && ev.detail.target.id === "cmoc-panel") {
      const first = ev.detail.target.querySelector("textarea, input:not([type=hidden])");
      if (first) first.focus();
    }
  });
})();
