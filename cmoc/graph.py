"""The causal web: CMOC chains and the signed concept graph (no Django import).

Input is plain data (see `TheoryData`): CMOCs as dicts, elements as tuples
``(cmoc_id, role, concept_id, direction)``, concept labels and reviewer-asserted links.

Two views of the same data:
- **CMOC chains** — an edge A → B wherever an outcome concept of A is a context concept of B
  (seed chapter 4: "the outcome of one CMOC becoming the context for another"), plus links a
  reviewer asserted. Cycles are allowed and flagged.
- **Concept web** — one node per concept, signed edges context → mechanism → outcome aggregated
  over CMOCs (with their ids and source counts). Chains show up as paths through shared
  concepts, and its size grows linearly with the CMOCs (CMOC-level chain edges grow with the
  square of concept reuse), so it is the default view at scale.

Exports: JSON Graph Format, GraphML (networkx), DOT and a static SVG with a layered layout
computed here, so no Graphviz binary is needed.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from xml.sax.saxutils import escape

import networkx as nx

ROLES = ("context", "mechanism", "outcome")
DIRECTION_VALUE = {"increase": 1, "decrease": -1}
LINK_KINDS = {
    "outcome_context": "Outcome becomes context",
    "outcome_mechanism": "Outcome triggers mechanism",
    "countervailing": "Countervailing",
    "moderates": "Moderates",
}
# Which role of the target CMOC an asserted link points at, in the concept web.
LINK_TARGET_ROLE = {
    "outcome_context": "context",
    "outcome_mechanism": "mechanism",
    "countervailing": "outcome",
    "moderates": "mechanism",
}
ROLE_COLOURS = {
    "context": "#4a86c5",
    "mechanism": "#e3a33b",
    "outcome": "#3f9a5a",
    "link": "#8a5cb8",  # a concept that is both an outcome and a context: where CMOCs chain
}
SIGN_COLOURS = {"+": "#1d7a43", "-": "#b02a2a", "±": "#c77700", "?": "#8a93a0"}


@dataclass
class TheoryData:
    """Everything the graph needs, as plain data.

    cmocs: ``{id: {"code", "phase", "statement", "relation", "theme", "source_count"}}``
    elements: ``[(cmoc_id, role, concept_id, direction)]``
    concepts: ``{concept_id: label}``
    links: ``[{"id", "source", "target", "kind", "evidence": n}]`` (CMOC ids)
    """

    cmocs: dict[int, dict]
    elements: list[tuple[int, str, int, str]]
    concepts: dict[int, str]
    links: list[dict] = field(default_factory=list)

    def by_cmoc(self) -> dict[int, dict[str, list[tuple[int, str]]]]:
        out: dict[int, dict[str, list[tuple[int, str]]]] = {}
        for cmoc_id, role, concept_id, direction in self.elements:
            roles = out.get(cmoc_id)
            if roles is None:
                roles = out[cmoc_id] = {"context": [], "mechanism": [], "outcome": []}
            roles[role].append((concept_id, direction or ""))
        return out


def filter_data(
    data: TheoryData,
    *,
    phases: Iterable[str] | None = None,
    themes: Iterable[str] | None = None,
    relations: Iterable[str] | None = None,
    min_sources: int = 0,
) -> TheoryData:
    """Keep the CMOCs that pass every given filter (empty filters keep everything)."""
    phases = set(phases or ())
    themes = set(themes or ())
    relations = set(relations or ())
    keep = {
        cid: c
        for cid, c in data.cmocs.items()
        if (not phases or (c.get("phase") or "") in phases)
        and (not themes or (c.get("theme") or "") in themes)
        and (not relations or (c.get("relation") or "") in relations)
        and (c.get("source_count") or 0) >= min_sources
    }
    if len(keep) == len(data.cmocs):
        return data
    return TheoryData(
        cmocs=keep,
        elements=[e for e in data.elements if e[0] in keep],
        concepts=data.concepts,
        links=[lk for lk in data.links if lk["source"] in keep and lk["target"] in keep],
    )


def _sign(source_direction: str, target_direction: str) -> int:
    """+1/-1 for a signed influence, 0 when the target's direction is unknown. An unsigned
    source counts as presence (+1): "in large organisations, task complexity increases"."""
    target = DIRECTION_VALUE.get(target_direction or "")
    if target is None:
        return 0
    return DIRECTION_VALUE.get(source_direction or "", 1) * target


def _sign_symbol(pos: int, neg: int, unsigned: int) -> str:
    if pos and not neg and not unsigned:
        return "+"
    if neg and not pos and not unsigned:
        return "-"
    if pos or neg:
        return "±"
    return "?"


# --- CMOC chains -----------------------------------------------------------------------------


def chain_edges(data: TheoryData, *, limit: int | None = None) -> Iterator[dict]:
    """Computed chain edges (outcome concept of A is a context concept of B), then asserted
    links. The sign says whether A's outcome feeds B's context (+) or works against it (-)."""
    by_cmoc = data.by_cmoc()
    context_of: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for cmoc_id, roles in by_cmoc.items():
        for concept_id, direction in roles["context"]:
            context_of[concept_id].append((cmoc_id, direction))
    edges = _chain_edges(by_cmoc, context_of, data.links)
    return islice(edges, limit) if limit is not None else edges


def _chain_edges(by_cmoc, context_of, links) -> Iterator[dict]:
    for source, roles in by_cmoc.items():
        for concept_id, out_dir in roles["outcome"]:
            for target, ctx_dir in context_of.get(concept_id, ()):
                if target == source:
                    continue
                sign = 0 if not out_dir else _sign(ctx_dir, out_dir)
                yield {
                    "source": source,
                    "target": target,
                    "kind": "computed",
                    "concept": concept_id,
                    "sign": sign,
                }
    for lk in links:
        yield {
            "source": lk["source"],
            "target": lk["target"],
            "kind": lk["kind"],
            "concept": None,
            "sign": -1 if lk["kind"] == "countervailing" else 0,
            "link": lk.get("id"),
        }


def chain_count(data: TheoryData) -> int:
    """How many computed chain edges there are, without building them (they can run to
    millions when concepts are heavily reused)."""
    outcome_uses: Counter = Counter()
    context_uses: Counter = Counter()
    both: Counter = Counter()  # a CMOC with the concept as outcome and context: no self-edge
    by_cmoc = data.by_cmoc()
    for roles in by_cmoc.values():
        outs = {c for c, _ in roles["outcome"]}
        ctxs = {c for c, _ in roles["context"]}
        outcome_uses.update(outs)
        context_uses.update(ctxs)
        both.update(outs & ctxs)
    return sum(n * context_uses.get(c, 0) for c, n in outcome_uses.items()) - sum(both.values())


def chain_cycles(data: TheoryData) -> set[int]:
    """CMOC ids that sit on a chain cycle. Computed on the bipartite CMOC → concept → CMOC
    graph, which is linear in the data and has the same strongly connected components."""
    g = nx.DiGraph()
    for cmoc_id, role, concept_id, _ in data.elements:
        if role == "outcome":
            g.add_edge(("m", cmoc_id), ("c", concept_id))
        elif role == "context":
            g.add_edge(("c", concept_id), ("m", cmoc_id))
    for lk in data.links:
        g.add_edge(("m", lk["source"]), ("m", lk["target"]))
    in_cycle: set[int] = set()
    for component in nx.strongly_connected_components(g):
        cmocs = [n[1] for n in component if n[0] == "m"]
        # One CMOC feeding its own context is not a chain; two or more in a strongly
        # connected component always lie on a cycle of distinct CMOCs.
        if len(cmocs) > 1:
            in_cycle.update(cmocs)
    return in_cycle


def cmoc_web(data: TheoryData, *, max_edges: int = 20000) -> nx.DiGraph:
    """CMOCs as nodes, chain edges aggregated per pair. Stops adding computed edges after
    `max_edges` (the graph records `truncated`) so that a filter is needed, not a crash."""
    g = nx.DiGraph(level="cmoc", truncated=False)
    in_cycle = chain_cycles(data)
    for cid, c in data.cmocs.items():
        g.add_node(
            cid,
            label=c.get("code") or str(cid),
            role="cmoc",
            phase=c.get("phase") or "",
            theme=c.get("theme") or "",
            relation=c.get("relation") or "",
            statement=c.get("statement") or "",
            sources=c.get("source_count") or 0,
            n_cmocs=1,
            in_cycle=cid in in_cycle,
            cmocs=[cid],
        )
    n = 0
    # Asserted links first so they always show; then computed edges until the cap (stop
    # early: with heavy concept reuse there can be hundreds of millions).
    bare = TheoryData(cmocs=data.cmocs, elements=data.elements, concepts=data.concepts)
    edges = chain_edges(TheoryData(cmocs={}, elements=[], concepts={}, links=data.links))
    for edge in itertools.chain(edges, chain_edges(bare)):
        a, b = edge["source"], edge["target"]
        if a not in g or b not in g:
            continue
        if g.has_edge(a, b):
            attrs = g.edges[a, b]
        else:
            if edge["kind"] == "computed" and n >= max_edges:
                g.graph["truncated"] = True
                break
            n += 1
            attrs = {"pos": 0, "neg": 0, "unsigned": 0, "kinds": set(), "via": set()}
            g.add_edge(a, b, **attrs)
            attrs = g.edges[a, b]
        attrs["kinds"].add(edge["kind"])
        if edge["concept"] is not None:
            attrs["via"].add(data.concepts.get(edge["concept"], str(edge["concept"])))
        key = {1: "pos", -1: "neg", 0: "unsigned"}[edge["sign"]]
        attrs[key] += 1
    for a, b, attrs in g.edges(data=True):
        attrs["sign"] = _sign_symbol(attrs["pos"], attrs["neg"], attrs["unsigned"])
        attrs["kind"] = ",".join(sorted(attrs.pop("kinds")))
        attrs["via"] = "; ".join(sorted(attrs["via"]))
        attrs["in_cycle"] = a in in_cycle and b in in_cycle
        attrs["n_cmocs"] = 2
        attrs["sources"] = g.nodes[a]["sources"] + g.nodes[b]["sources"]
        attrs["cmocs"] = [a, b]
    return g


# --- concept web -----------------------------------------------------------------------------


_SIGN_TABLE = {
    (a, b): _sign(a, b) for a in ("increase", "decrease", "") for b in ("increase", "decrease", "")
}
_ROLE_INDEX = {"context": 0, "mechanism": 1, "outcome": 2}


def concept_web(data: TheoryData, *, max_edges: int | None = None) -> nx.DiGraph:
    """Concepts as nodes; per CMOC, signed edges context → mechanism → outcome (context →
    outcome when no mechanism concept is coded), aggregated with CMOC ids and source counts.
    Asserted links join the source CMOC's outcomes to the target CMOC's elements.

    Written as flat loops over tuples and lists rather than per-edge networkx calls: this is
    the hot path of the web endpoint at 50k CMOCs. Also records `chain_edges`, the number of
    computed CMOC chain edges, which falls out of the per-concept role counts.

    With `max_edges`, only the edges backed by most CMOCs (then sources) are kept — all nodes
    stay, cycles are still flagged on the full web, and `hidden_edges` counts the rest."""
    cmocs = data.cmocs
    per: dict[int, tuple[list, list, list]] = {}
    role_index = _ROLE_INDEX
    for cmoc_id, role, concept_id, direction in data.elements:
        t = per.get(cmoc_id)
        if t is None:
            t = per[cmoc_id] = ([], [], [])
        t[role_index[role]].append((concept_id, direction or ""))

    # node: [n_context, n_mechanism, n_outcome, {phase: n}, [cmoc ids], sources]
    nodes: dict[int, list] = {}
    # edge: [pos, neg, unsigned, sources, [cmoc ids], kinds or None]
    edges: dict[tuple[int, int], list] = {}
    sign_table = _SIGN_TABLE
    sign_slot = {1: 0, -1: 1, 0: 2}
    both = 0

    def add_link_edge(a, b, sign, cmoc_id, kind):
        e = edges.get((a, b))
        if e is None:
            e = edges[(a, b)] = [0, 0, 0, 0, [], set()]
        elif e[5] is None:  # already drawn from CMOCs' own elements
            e[5] = {"cmo"}
        e[sign_slot[sign]] += 1
        if not e[4] or e[4][-1] != cmoc_id:
            e[4].append(cmoc_id)
        e[5].add(kind)

    for cmoc_id, lists in per.items():
        c = cmocs.get(cmoc_id)
        if c is None:
            continue
        phase = c.get("phase") or ""
        sources = c.get("source_count") or 0
        for idx in (0, 1, 2):
            for concept_id, _ in lists[idx]:
                n = nodes.get(concept_id)
                if n is None:
                    n = nodes[concept_id] = [0, 0, 0, {}, [], 0]
                n[idx] += 1
                ids = n[4]
                if not ids or ids[-1] != cmoc_id:
                    ids.append(cmoc_id)
                    n[5] += sources
                    n[3][phase] = n[3].get(phase, 0) + 1
        ctx, mech, out = lists
        if ctx and out:
            both += len({a for a, _ in ctx} & {b for b, _ in out})
        steps = [step for step in lists if step]
        for i in range(len(steps) - 1):
            for a, da in steps[i]:
                for b, db in steps[i + 1]:
                    if a == b:
                        continue
                    e = edges.get((a, b))
                    if e is None:
                        e = edges[(a, b)] = [0, 0, 0, 0, [], None]
                    e[sign_slot[sign_table[(da, db)]]] += 1
                    ids = e[4]
                    if not ids or ids[-1] != cmoc_id:
                        ids.append(cmoc_id)
                        e[3] += sources

    for lk in data.links:
        src, tgt = per.get(lk["source"]), per.get(lk["target"])
        if not src or not tgt or lk["source"] not in cmocs or lk["target"] not in cmocs:
            continue
        sign_override = -1 if lk["kind"] == "countervailing" else None
        target_idx = role_index[LINK_TARGET_ROLE.get(lk["kind"], "context")]
        for a, da in src[2]:
            for b, _ in tgt[target_idx]:
                if a != b:
                    sign = sign_override if sign_override is not None else (1 if da else 0)
                    add_link_edge(a, b, sign, lk["source"], lk["kind"])

    labels = data.concepts
    g = nx.DiGraph(level="concept")
    g.graph["chain_edges"] = sum(n[2] * n[0] for n in nodes.values()) - both
    node_attrs = []
    for concept_id, (n_ctx, n_mech, n_out, phases, ids, sources) in nodes.items():
        role = (
            "link"
            if (n_out and n_ctx)
            else max(
                ("context", n_ctx), ("mechanism", n_mech), ("outcome", n_out), key=lambda r: r[1]
            )[0]
        )
        ranked = sorted(phases.items(), key=lambda p: -p[1])
        node_attrs.append(
            (
                concept_id,
                {
                    "label": labels.get(concept_id, str(concept_id)),
                    "role": role,
                    "n_context": n_ctx,
                    "n_mechanism": n_mech,
                    "n_outcome": n_out,
                    "phase": ranked[0][0] if ranked else "",
                    "phases": "; ".join(p for p, _ in ranked if p),
                    "n_cmocs": len(ids),
                    "sources": sources,
                    "cmocs": ids,
                    "in_cycle": False,
                },
            )
        )
    g.add_nodes_from(node_attrs)
    # Cycles on the full web, on a bare graph (no attribute dicts: much cheaper to build).
    bare = nx.DiGraph()
    bare.add_edges_from(edges)
    in_cycle = set()
    for component in nx.strongly_connected_components(bare):
        if len(component) > 1:
            in_cycle.update(component)
    for n in in_cycle:
        g.nodes[n]["in_cycle"] = True
    kept = edges.items()
    g.graph["hidden_edges"] = 0
    if max_edges is not None and len(edges) > max_edges:
        kept = heapq.nlargest(max_edges, edges.items(), key=lambda kv: (len(kv[1][4]), kv[1][3]))
        g.graph["hidden_edges"] = len(edges) - max_edges
    g.add_edges_from(
        (
            a,
            b,
            {
                "sign": _sign_symbol(pos, neg, uns),
                "kind": ",".join(sorted(kinds)) if kinds else "cmo",
                "n_cmocs": len(ids),
                "pos": pos,
                "neg": neg,
                "unsigned": uns,
                "sources": sources,
                "cmocs": ids,
                "in_cycle": a in in_cycle and b in in_cycle,
            },
        )
        for (a, b), (pos, neg, uns, sources, ids, kinds) in kept
    )
    return g


def strongest_edges(g: nx.DiGraph, limit: int) -> nx.DiGraph:
    """A view of `g` keeping only its `limit` edges backed by most CMOCs (then sources), so a
    web of 50k CMOCs stays drawable; `hidden_edges` says how many were left out. All nodes
    stay, so every concept can still be found and clicked."""
    if g.number_of_edges() <= limit:
        g.graph.setdefault("hidden_edges", 0)
        return g
    ranked = sorted(
        g.edges(data=True),
        key=lambda e: (e[2].get("n_cmocs", 0), e[2].get("sources", 0)),
        reverse=True,
    )
    h = nx.DiGraph(**g.graph)
    h.add_nodes_from(g.nodes(data=True))
    h.add_edges_from(ranked[:limit])
    h.graph["hidden_edges"] = g.number_of_edges() - limit
    return h


def concept_paths(
    web: nx.DiGraph, source: int, target: int, *, cutoff: int = 6, limit: int = 50
) -> list[list[int]]:
    """All simple paths from one concept to another (at most `cutoff` edges, at most `limit`
    paths, shortest first) — bounded because a dense web has exponentially many."""
    if source not in web or target not in web or source == target:
        return []
    found = list(islice(nx.all_simple_paths(web, source, target, cutoff=cutoff), limit * 4))
    found.sort(key=lambda p: (len(p), p))
    return found[:limit]


def path_cmocs(web: nx.DiGraph, path: list[int]) -> list[list[int]]:
    """For each step of a path, the CMOCs behind that edge."""
    return [list(web.edges[a, b]["cmocs"]) for a, b in zip(path, path[1:], strict=False)]


# --- layout ----------------------------------------------------------------------------------


def layered_layout(g: nx.DiGraph, *, dx: float = 220.0, dy: float = 56.0, sweeps: int = 4) -> dict:
    """Left-to-right layers (contexts left, outcomes right), computed in linear time per sweep:
    longest-path ranks on the graph with its cycles collapsed, barycentre ordering within a
    layer, and tall layers wrapped into several columns so 2,000 nodes stay on one screen."""
    if not g:
        return {}
    cond = nx.condensation(g)
    members = cond.graph["mapping"]  # node -> component
    comp_rank: dict[int, int] = {}
    role_rank = {"context": 0, "link": 1, "mechanism": 1, "cmoc": 0, "outcome": 2}
    for comp in nx.topological_sort(cond):
        preds = [comp_rank[p] + 1 for p in cond.predecessors(comp)]
        if preds:
            comp_rank[comp] = max(preds)
        elif cond.out_degree(comp) == 0:  # isolated: place by role
            node = next(iter(cond.nodes[comp]["members"]))
            comp_rank[comp] = role_rank.get(g.nodes[node].get("role", ""), 0)
        else:
            comp_rank[comp] = 0
    layers: dict[int, list] = defaultdict(list)
    for node in g.nodes:
        layers[comp_rank[members[node]]].append(node)
    order: dict = {}
    for rank in sorted(layers):
        layers[rank].sort(key=lambda n: str(g.nodes[n].get("label", n)).lower())
        for i, n in enumerate(layers[rank]):
            order[n] = i
    ranks = sorted(layers)
    for sweep in range(sweeps):
        seq = ranks[1:] if sweep % 2 == 0 else list(reversed(ranks[:-1]))
        neighbours = g.predecessors if sweep % 2 == 0 else g.successors
        for rank in seq:
            layer = layers[rank]

            def bary(n, neighbours=neighbours):
                ns = [order[m] for m in neighbours(n)]
                return sum(ns) / len(ns) if ns else order[n]

            layer.sort(key=bary)
            for i, n in enumerate(layer):
                order[n] = i
    max_rows = max(18, int(math.sqrt(g.number_of_nodes()) * 1.5))
    pos: dict = {}
    x = 0.0
    for rank in ranks:
        layer = layers[rank]
        columns = math.ceil(len(layer) / max_rows)
        rows = math.ceil(len(layer) / columns)
        for i, n in enumerate(layer):
            col, row = divmod(i, rows)
            # Stagger wrapped columns vertically so their labels do not line up and collide.
            pos[n] = (x + col * dx * 0.8, (row - rows / 2) * dy + (col % 2) * dy / 2)
        x += dx * (0.8 * columns + 0.4)
    return pos


# --- exports ---------------------------------------------------------------------------------


def _node_id(g: nx.DiGraph, n) -> str:
    return f"{'m' if g.graph.get('level') == 'cmoc' else 'c'}{n}"


def _scalar(value):
    if isinstance(value, list | tuple | set):
        return ";".join(str(v) for v in value)
    return value


def to_cytoscape(g: nx.DiGraph, pos: dict | None = None) -> list[dict]:
    """Cytoscape.js elements with preset positions. CMOC id lists are left out (they can be
    long at scale); the side panel asks the server for a node's or edge's CMOCs."""
    pos = pos if pos is not None else layered_layout(g)
    skip = {"cmocs", "statement"}
    out = []
    for n, attrs in g.nodes(data=True):
        d = {k: v for k, v in attrs.items() if k not in skip}
        d["id"] = _node_id(g, n)
        d["key"] = n
        x, y = pos.get(n, (0, 0))
        out.append({"group": "nodes", "data": d, "position": {"x": round(x), "y": round(y)}})
    for a, b, attrs in g.edges(data=True):
        d = {k: v for k, v in attrs.items() if k not in skip}
        d.update(id=f"{_node_id(g, a)}-{_node_id(g, b)}", source=_node_id(g, a))
        d["target"] = _node_id(g, b)
        out.append({"group": "edges", "data": d})
    return out


def to_jgf(g: nx.DiGraph, *, label: str = "Causal web", metadata: dict | None = None) -> str:
    """JSON Graph Format (v2: nodes keyed by id)."""
    graph = {
        "id": "causal-web",
        "label": label,
        "directed": True,
        "type": f"retroduce.{g.graph.get('level', 'concept')}-web",
        "metadata": {**(metadata or {}), "level": g.graph.get("level", "concept")},
        "nodes": {
            _node_id(g, n): {
                "label": attrs.get("label", str(n)),
                "metadata": {k: v for k, v in attrs.items() if k != "label"},
            }
            for n, attrs in g.nodes(data=True)
        },
        "edges": [
            {
                "source": _node_id(g, a),
                "target": _node_id(g, b),
                "relation": attrs.get("kind", ""),
                "directed": True,
                "metadata": dict(attrs),
            }
            for a, b, attrs in g.edges(data=True)
        ],
    }
    return json.dumps({"graph": graph}, indent=1, ensure_ascii=False)


def to_graphml(g: nx.DiGraph) -> str:
    """GraphML for Gephi/yEd via networkx; lists become `;`-joined strings (GraphML keys hold
    scalars only)."""
    h = nx.DiGraph()
    for n, attrs in g.nodes(data=True):
        h.add_node(_node_id(g, n), **{k: _scalar(v) for k, v in attrs.items()})
    for a, b, attrs in g.edges(data=True):
        h.add_edge(_node_id(g, a), _node_id(g, b), **{k: _scalar(v) for k, v in attrs.items()})
    return "\n".join(nx.generate_graphml(h)) + "\n"


def _dot_quote(text) -> str:
    # Written by hand: networkx's DOT writer needs pydot/pygraphviz, a heavy dependency for a
    # format whose only escaping rules are backslash, quote and newline inside "...".
    s = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + s.replace("\r", "").replace("\n", "\\n") + '"'


def to_dot(g: nx.DiGraph, *, label: str = "Causal web") -> str:
    lines = [
        f"digraph {_dot_quote(label)} {{",
        "  rankdir=LR;",
        f"  label={_dot_quote(label)};",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica"];',
    ]
    for n, attrs in g.nodes(data=True):
        colour = ROLE_COLOURS.get(attrs.get("role", ""), "#dde1e7")
        extra = ", peripheries=2" if attrs.get("in_cycle") else ""
        lines.append(
            f"  {_dot_quote(_node_id(g, n))} [label={_dot_quote(attrs.get('label', n))}, "
            f'fillcolor="{colour}40", color="{colour}"{extra}];'
        )
    for a, b, attrs in g.edges(data=True):
        sign = attrs.get("sign", "?")
        style = "dashed" if sign == "-" else "solid"
        width = 1 + min(4, math.log2(1 + attrs.get("n_cmocs", 1)))
        lines.append(
            f"  {_dot_quote(_node_id(g, a))} -> {_dot_quote(_node_id(g, b))} "
            f'[label={_dot_quote(sign)}, color="{SIGN_COLOURS.get(sign, "#8a93a0")}", '
            f"style={style}, penwidth={width:.1f}, tooltip={_dot_quote(attrs.get('kind', ''))}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_svg(g: nx.DiGraph, pos: dict | None = None, *, title: str = "Causal web") -> str:
    """A static SVG of the layered layout: nodes coloured by role, edges by sign."""
    pos = pos if pos is not None else layered_layout(g)
    margin = 120
    if pos:
        xs = [p[0] for p in pos.values()]
        ys = [p[1] for p in pos.values()]
        min_x, min_y = min(xs), min(ys)
        width = max(xs) - min_x + 2 * margin + 60
        height = max(ys) - min_y + 2 * margin
    else:
        min_x = min_y = 0
        width = height = 2 * margin

    def xy(n):
        x, y = pos[n]
        return x - min_x + margin, y - min_y + margin

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif" '
        'font-size="12">',
        f"<title>{escape(title)}</title>",
        "<defs>",
    ]
    for sign, colour in SIGN_COLOURS.items():
        key = {"+": "pos", "-": "neg", "±": "mixed", "?": "unsigned"}[sign]
        out.append(
            f'<marker id="arrow-{key}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/>'
            "</marker>"
        )
    out.append("</defs>")
    out.append('<rect width="100%" height="100%" fill="#ffffff"/><g class="edges">')
    radius = 9
    for a, b, attrs in g.edges(data=True):
        (x1, y1), (x2, y2) = xy(a), xy(b)
        length = math.hypot(x2 - x1, y2 - y1) or 1
        x2e, y2e = x2 - (x2 - x1) / length * radius, y2 - (y2 - y1) / length * radius
        sign = attrs.get("sign", "?")
        key = {"+": "pos", "-": "neg", "±": "mixed", "?": "unsigned"}.get(sign, "unsigned")
        dash = ' stroke-dasharray="5,3"' if sign == "-" else ""
        width = 1 + min(4, math.log2(1 + attrs.get("n_cmocs", 1)))
        tip = f"{g.nodes[a].get('label', a)} → {g.nodes[b].get('label', b)} ({sign})"
        out.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2e:.1f}" y2="{y2e:.1f}" '
            f'stroke="{SIGN_COLOURS.get(sign, "#8a93a0")}" stroke-width="{width:.1f}" '
            f'stroke-opacity="0.7" marker-end="url(#arrow-{key})"{dash}>'
            f"<title>{escape(tip)}</title></line>"
        )
    out.append('</g><g class="nodes">')
    for n, attrs in g.nodes(data=True):
        x, y = xy(n)
        colour = ROLE_COLOURS.get(attrs.get("role", ""), "#8a93a0")
        label = str(attrs.get("label", n))
        short = label if len(label) <= 32 else label[:31] + "…"
        stroke = ' stroke="#222" stroke-width="2"' if attrs.get("in_cycle") else ""
        out.append(
            f"<g><title>{escape(label)}</title>"
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{colour}"{stroke}/>'
            f'<text x="{x:.1f}" y="{y - radius - 4:.1f}" text-anchor="middle">'
            f"{escape(short)}</text></g>"
        )
    out.append("</g></svg>")
    return "\n".join(out) + "\n"


EXPORTERS = {
    "jgf": ("application/json", "json"),
    "graphml": ("application/graphml+xml", "graphml"),
    "dot": ("text/vnd.graphviz", "dot"),
    "svg": ("image/svg+xml", "svg"),
}


def export(g: nx.DiGraph, fmt: str, *, label: str = "Causal web", metadata=None) -> str:
    if fmt == "jgf":
        return to_jgf(g, label=label, metadata=metadata)
    if fmt == "graphml":
        return to_graphml(g)
    if fmt == "dot":
        return to_dot(g, label=label)
    if fmt == "svg":
        return to_svg(g, title=label)
    raise ValueError(f"Unknown export format {fmt!r}; choose one of {', '.join(EXPORTERS)}.")


__all__ = [
    "TheoryData",
    "chain_count",
    "chain_cycles",
    "chain_edges",
    "cmoc_web",
    "concept_paths",
    "concept_web",
    "export",
    "filter_data",
    "layered_layout",
    "path_cmocs",
    "strongest_edges",
    "to_cytoscape",
]
