/* Causal web page: loads the filtered web as JSON into Cytoscape.js (preset positions
   computed on the server), opens the side panel with htmx, highlights paths. No build step. */
(function () {
  "use strict";
  const ROLE = { context: "#4a86c5", mechanism: "#e3a33b", outcome: "#3f9a5a", link: "#8a5cb8", cmoc: "#5b6576" };
  const PHASE_PALETTE = ["#4a86c5", "#d9822b", "#3f9a5a", "#8a5cb8", "#c0392b", "#16a2a2", "#7f8c8d", "#b8860b"];
  const SIGN = { "+": "#1d7a43", "-": "#b02a2a", "±": "#c77700", "?": "#9aa3ae" };

  function init() {
    const container = document.getElementById("cy");
    const form = document.getElementById("web-filters");
    if (!container || !form || typeof cytoscape === "undefined") return;
    const phases = JSON.parse(container.dataset.phases || "[]");
    const stats = document.getElementById("web-stats");
    let cy = null;
    let lastPaths = [];

    function params() {
      const p = new URLSearchParams();
      for (const [k, v] of new FormData(form).entries()) {
        if (k !== "colour" && v !== "" && !(k === "min_sources" && v === "0")) p.append(k, v);
      }
      return p;
    }

    function nodeColour(ele) {
      if (form.elements.colour.value === "phase" || ele.data("role") === "cmoc") {
        const i = phases.indexOf(ele.data("phase"));
        return i < 0 ? "#9aa3ae" : PHASE_PALETTE[i % PHASE_PALETTE.length];
      }
      return ROLE[ele.data("role")] || "#9aa3ae";
    }

    function style(big) {
      return [
        { selector: "node", style: {
          "background-color": nodeColour,
          "width": (e) => Math.min(48, 12 + 4 * Math.sqrt(e.data("n_cmocs") || 1)),
          "height": (e) => Math.min(48, 12 + 4 * Math.sqrt(e.data("n_cmocs") || 1)),
          "label": "data(label)", "font-size": 13, "text-valign": "top", "text-margin-y": -3,
          "text-wrap": "wrap", "text-max-width": "150px", "min-zoomed-font-size": big ? 9 : 6,
          "text-background-color": "#fff", "text-background-opacity": 0.75, "text-background-padding": 1,
        } },
        { selector: "node[?in_cycle]", style: { "border-width": 3, "border-color": "#222" } },
        { selector: "edge", style: {
          "width": (e) => Math.min(7, 1 + Math.log2(1 + (e.data("n_cmocs") || 1))),
          "line-color": (e) => SIGN[e.data("sign")] || SIGN["?"],
          "target-arrow-color": (e) => SIGN[e.data("sign")] || SIGN["?"],
          "target-arrow-shape": "triangle", "arrow-scale": 0.9,
          "curve-style": big ? "straight" : "bezier", "opacity": 0.75,
        } },
        { selector: 'edge[sign = "-"]', style: { "line-style": "dashed" } },
        { selector: ".dim", style: { "opacity": 0.12 } },
        { selector: ".hl", style: { "opacity": 1, "border-width": 4, "border-color": "#111", "z-index": 10 } },
        { selector: "edge.hl", style: { "width": 5 } },
        { selector: ":selected", style: { "border-width": 4, "border-color": "#1f5fa8", "line-color": "#1f5fa8" } },
      ];
    }

    function updateExports(p) {
      document.querySelectorAll(".export-link").forEach((a) => {
        a.href = a.href.split("?")[0] + (p.toString() ? "?" + p : "");
      });
    }

    function openPanel(extra) {
      const p = params();
      for (const [k, v] of Object.entries(extra)) p.set(k, v);
      htmx.ajax("GET", container.dataset.panelUrl + "?" + p, { target: "#web-panel", swap: "innerHTML" });
    }

    function render(data) {
      if (cy) cy.destroy();
      const big = data.elements.length > 2500;
      cy = cytoscape({
        container, elements: data.elements, style: style(big), layout: { name: "preset" },
        minZoom: 0.03, maxZoom: 3, wheelSensitivity: 0.25, boxSelectionEnabled: false,
        textureOnViewport: big, hideEdgesOnViewport: big, pixelRatio: big ? 1 : "auto",
      });
      cy.fit(undefined, 30);
      cy.on("tap", "node", (e) => { clearHighlight(); openPanel({ node: e.target.data("key") }); });
      cy.on("tap", "edge", (e) => {
        clearHighlight();
        openPanel({ source: e.target.source().data("key"), target: e.target.target().data("key") });
      });
      window.retroduceWeb = cy; // for the browser tests and the console
      // An empty canvas looked like a page that failed to load: say the filters left nothing.
      const empty = document.getElementById("web-empty");
      if (empty) empty.hidden = data.elements.length > 0 || Boolean(data.message);
      const s = data.stats;
      if (data.message) { stats.textContent = data.message; container.dataset.ready = "1"; return; }
      stats.textContent = `${s.nodes} ${data.level === "cmoc" ? "CMOCs" : "concepts"} · ${s.edges} edges · ` +
        `${s.cmocs} CMOCs, ${s.chain_edges} chain links` + (s.in_cycle ? ` · ${s.in_cycle} on cycles` : "") +
        (s.hidden_edges ? ` · showing the ${s.edges} strongest edges, ${s.hidden_edges} weaker hidden (filter to see them)` : "") +
        (s.truncated ? " · too many chain links: edges truncated, filter to see all" : "");
      container.dataset.ready = "1";
    }

    // Filters changed quickly fire requests that may answer out of order: only the latest
    // one may draw the web (an earlier, slower answer would show the wrong filters).
    let pending = null;
    async function load() {
      const p = params();
      if (pending) pending.abort();
      const mine = (pending = new AbortController());
      container.dataset.ready = "";
      stats.textContent = "loading…";
      let r, data;
      try {
        r = await fetch(container.dataset.dataUrl + "?" + p,
          { headers: { Accept: "application/json" }, signal: mine.signal });
        data = r.ok ? await r.json() : null;
      } catch (err) {
        if (mine.signal.aborted) return;
        throw err;
      }
      if (mine !== pending) return;
      pending = null;
      if (!r.ok) { stats.textContent = `could not load the web (${r.status})`; return; }
      render(data);
      updateExports(p);
      history.replaceState(null, "", "?" + p);
    }

    function clearHighlight() { if (cy) cy.elements().removeClass("dim hl"); }

    function highlight(ids) {
      clearHighlight();
      const nodes = cy.collection(ids.map((id) => cy.getElementById(id)).filter((n) => n.nonempty()));
      let edges = cy.collection();
      for (let i = 0; i + 1 < ids.length; i++) {
        edges = edges.union(cy.getElementById(ids[i]).edgesTo(cy.getElementById(ids[i + 1])));
      }
      cy.elements().addClass("dim");
      nodes.union(edges).removeClass("dim").addClass("hl");
      cy.animate({ fit: { eles: nodes, padding: 60 } }, { duration: 250 });
    }

    form.addEventListener("change", (e) => {
      if (e.target.name === "colour") { if (cy) cy.style(style(cy.elements().length > 2500)); return; }
      load();
    });
    form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
    document.getElementById("fit").addEventListener("click", () => { clearHighlight(); cy && cy.fit(undefined, 30); });
    document.getElementById("find-node").addEventListener("keydown", (e) => {
      if (e.key !== "Enter" || !cy) return;
      e.preventDefault();
      const want = e.target.value.trim().toLowerCase();
      const node = cy.nodes().filter((n) => String(n.data("label")).toLowerCase() === want).first();
      if (node.empty()) { stats.textContent = `no concept “${e.target.value}” in this view`; return; }
      cy.elements().unselect(); node.select();
      cy.animate({ center: { eles: node }, zoom: Math.max(cy.zoom(), 1) }, { duration: 200 });
      openPanel({ node: node.data("key") });
    });
    document.body.addEventListener("htmx:afterSwap", (e) => {
      const result = e.detail.target.querySelector && e.detail.target.querySelector("#path-result");
      if (!result || !cy) return;
      lastPaths = JSON.parse(result.dataset.paths || "[]");
      if (lastPaths.length) highlight(lastPaths[0]);
    });
    document.getElementById("web-panel").addEventListener("click", (e) => {
      const pick = e.target.closest(".path-pick");
      if (pick && lastPaths[+pick.dataset.index]) highlight(lastPaths[+pick.dataset.index]);
    });
    load();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
