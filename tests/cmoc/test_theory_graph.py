"""The causal web as plain Python: chains, cycles, the signed concept web, paths, exports."""

import json
import xml.etree.ElementTree as ET

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmoc import graph
from cmoc.graph import TheoryData
from cmoc.theory_diff import snapshot_data, version_diff

SIZE, COMPLEXITY, FAITH, BEHAVIOUR, SYNERGY, IT = 1, 2, 3, 4, 5, 6
LABELS = {
    SIZE: "Organisational size",
    COMPLEXITY: "Perceived task complexity",
    FAITH: "Faith",
    BEHAVIOUR: "Collaborative behaviour",
    SYNERGY: "Synergy",
    IT: 'Interoperable "IT" <systems> & data',
}


def seed_chain() -> TheoryData:
    """Seed chapter 4: larger organisational size → greater task complexity → less faith;
    faith is the context of collaborative behaviour → synergy."""
    return TheoryData(
        cmocs={
            10: {"code": "B1-1", "phase": "Theory gleaning", "source_count": 2, "theme": "T"},
            11: {"code": "B2-1", "phase": "Realist evaluation", "source_count": 1, "theme": "T"},
            12: {"code": "B1-2", "phase": "Theory gleaning", "source_count": 3, "theme": "U"},
        },
        elements=[
            (10, "context", SIZE, "increase"),
            (10, "mechanism", COMPLEXITY, "increase"),
            (10, "outcome", FAITH, "decrease"),
            (11, "context", FAITH, ""),
            (11, "mechanism", BEHAVIOUR, "increase"),
            (11, "outcome", SYNERGY, "increase"),
            (12, "context", IT, ""),
            (12, "mechanism", COMPLEXITY, "decrease"),
            (12, "outcome", FAITH, "increase"),
        ],
        concepts=LABELS,
    )


def test_chain_edges_join_outcome_to_context_with_sign():
    edges = list(graph.chain_edges(seed_chain()))
    pairs = {(e["source"], e["target"]): e for e in edges}
    assert set(pairs) == {(10, 11), (12, 11)}
    assert pairs[(10, 11)]["concept"] == FAITH
    assert pairs[(10, 11)]["sign"] == -1  # B1-1 lowers faith, which B2-1 needs
    assert pairs[(12, 11)]["sign"] == 1
    assert graph.chain_count(seed_chain()) == 2


def test_asserted_links_are_chain_edges_too():
    data = seed_chain()
    data.links = [{"id": 7, "source": 11, "target": 12, "kind": "countervailing"}]
    edges = list(graph.chain_edges(data))
    link = [e for e in edges if e["kind"] == "countervailing"]
    web = graph.concept_web(data)
    # Synergy (B2-1's outcome) now works against B1-2's outcome, faith.
    assert web.edges[SYNERGY, FAITH]["kind"] == "countervailing"
    assert web.edges[SYNERGY, FAITH]["sign"] == "-"
    data.links.append({"id": 8, "source": 10, "target": 11, "kind": "outcome_mechanism"})
    assert graph.concept_web(data).edges[FAITH, BEHAVIOUR]["kind"] == "cmo,outcome_mechanism"
    assert link == [
        {
            "source": 11,
            "target": 12,
            "kind": "countervailing",
            "concept": None,
            "sign": -1,
            "link": 7,
        }
    ]


def test_cycles_are_allowed_and_flagged():
    data = seed_chain()
    assert graph.chain_cycles(data) == set()
    # Synergy feeds back into faith: B2-1 → B1-x closes a loop.
    data.cmocs[13] = {"code": "B2-2", "phase": "Realist evaluation", "source_count": 2}
    data.elements += [(13, "context", SYNERGY, ""), (13, "outcome", SIZE, "decrease")]
    assert graph.chain_cycles(data) == {10, 11, 13}
    web = graph.cmoc_web(data)
    assert web.nodes[10]["in_cycle"] and not web.nodes[12]["in_cycle"]
    concept = graph.concept_web(data)
    assert concept.nodes[FAITH]["in_cycle"] and concept.edges[FAITH, BEHAVIOUR]["in_cycle"]
    graph.layered_layout(concept)  # a cycle does not break the layout


def test_concept_web_is_signed_and_aggregated():
    web = graph.concept_web(seed_chain())
    assert set(web.nodes) == set(LABELS)
    assert web.nodes[FAITH]["role"] == "link"  # outcome in one CMOC, context in another
    assert web.nodes[SIZE]["role"] == "context"
    assert web.nodes[SYNERGY]["role"] == "outcome"
    assert web.nodes[COMPLEXITY]["n_cmocs"] == 2
    assert web.nodes[COMPLEXITY]["sources"] == 5
    assert web.edges[SIZE, COMPLEXITY]["sign"] == "+"
    assert web.edges[IT, COMPLEXITY]["sign"] == "-"
    # complexity→faith: negative in B1-1 (↑ → ↓), negative in B1-2 (↓ → ↑) — agreeing.
    e = web.edges[COMPLEXITY, FAITH]
    assert (e["sign"], e["n_cmocs"], sorted(e["cmocs"]), e["sources"]) == ("-", 2, [10, 12], 5)
    assert web.edges[FAITH, BEHAVIOUR]["sign"] == "+"


def test_paths_from_context_to_outcome_follow_the_chain():
    web = graph.concept_web(seed_chain())
    paths = graph.concept_paths(web, SIZE, SYNERGY)
    assert paths == [[SIZE, COMPLEXITY, FAITH, BEHAVIOUR, SYNERGY]]
    assert graph.path_cmocs(web, paths[0]) == [[10], [10, 12], [11], [11]]
    assert graph.concept_paths(web, SYNERGY, SIZE) == []
    assert graph.concept_paths(web, SIZE, SYNERGY, cutoff=2) == []


def test_filters_keep_only_matching_cmocs():
    data = seed_chain()
    gleaning = graph.filter_data(data, phases=["Theory gleaning"])
    assert set(gleaning.cmocs) == {10, 12}
    assert all(e[0] in {10, 12} for e in gleaning.elements)
    assert BEHAVIOUR not in graph.concept_web(gleaning)
    assert set(graph.filter_data(data, min_sources=2).cmocs) == {10, 12}
    assert set(graph.filter_data(data, themes=["U"]).cmocs) == {12}
    assert graph.filter_data(data) is data


def test_layout_puts_contexts_left_of_outcomes():
    web = graph.concept_web(seed_chain())
    pos = graph.layered_layout(web)
    assert pos[SIZE][0] < pos[COMPLEXITY][0] < pos[FAITH][0] < pos[BEHAVIOUR][0] < pos[SYNERGY][0]


def test_cytoscape_elements_have_positions_and_no_id_lists():
    els = graph.to_cytoscape(graph.concept_web(seed_chain()))
    nodes = [e for e in els if e["group"] == "nodes"]
    edges = [e for e in els if e["group"] == "edges"]
    assert len(nodes) == 6 and len(edges) == 5
    assert all("position" in n and "cmocs" not in n["data"] for n in nodes)
    assert {e["data"]["source"] for e in edges} <= {n["data"]["id"] for n in nodes}
    json.dumps(els)


@pytest.mark.parametrize("level", ["concept", "cmoc"])
def test_exports_parse_and_escape(level):
    data = seed_chain()
    g = graph.concept_web(data) if level == "concept" else graph.cmoc_web(data)
    jgf = json.loads(graph.export(g, "jgf", label="Web"))
    assert jgf["graph"]["directed"] is True
    assert len(jgf["graph"]["nodes"]) == g.number_of_nodes()
    assert len(jgf["graph"]["edges"]) == g.number_of_edges()
    back = nx.parse_graphml(graph.export(g, "graphml"))
    assert back.number_of_nodes() == g.number_of_nodes()
    assert back.number_of_edges() == g.number_of_edges()
    svg = ET.fromstring(graph.export(g, "svg"))  # well-formed despite <, & and quotes
    assert svg.tag.endswith("svg")
    dot = graph.export(g, "dot", label='The "web"')
    assert dot.startswith('digraph "The \\"web\\"" {') and dot.rstrip().endswith("}")
    if level == "concept":
        assert 'label="Interoperable \\"IT\\" <systems> & data"' in dot
        assert "Interoperable &quot;IT&quot; &lt;systems&gt; &amp; data" in graph.export(
            g, "svg"
        ) or 'Interoperable "IT" &lt;systems&gt; &amp; data' in graph.export(g, "svg")
    with pytest.raises(ValueError, match="Unknown export format"):
        graph.export(g, "pdf")


def test_cmoc_web_truncates_instead_of_exploding():
    # 30 CMOCs all ending in concept 1, 30 starting from it: 900 chain edges.
    cmocs = {i: {"code": f"X{i}", "source_count": 1} for i in range(60)}
    elements = [(i, "outcome", 1, "increase") for i in range(30)]
    elements += [(i, "context", 1, "") for i in range(30, 60)]
    data = TheoryData(cmocs=cmocs, elements=elements, concepts={1: "trust"})
    assert graph.chain_count(data) == 900
    web = graph.cmoc_web(data, max_edges=100)
    assert web.number_of_edges() == 100 and web.graph["truncated"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 15),
            st.sampled_from(graph.ROLES),
            st.integers(0, 8),
            st.sampled_from(["increase", "decrease", ""]),
        ),
        max_size=60,
    )
)
def test_chain_count_matches_the_edges_and_layout_covers_every_node(raw):
    elements = list({(c, r, k): (c, r, k, d) for c, r, k, d in raw}.values())
    data = TheoryData(
        cmocs={i: {"code": f"C{i}", "source_count": i % 3} for i in range(16)},
        elements=elements,
        concepts={i: f"concept {i}" for i in range(9)},
    )
    assert graph.chain_count(data) == len(list(graph.chain_edges(data)))
    web = graph.concept_web(data)
    assert web.graph["chain_edges"] == graph.chain_count(data)
    assert set(graph.layered_layout(web)) == set(web.nodes)
    # A CMOC is on a cycle exactly when the explicit chain graph says so.
    g = nx.DiGraph()
    g.add_edges_from((e["source"], e["target"]) for e in graph.chain_edges(data))
    cyclic = {n for comp in nx.strongly_connected_components(g) if len(comp) > 1 for n in comp}
    assert graph.chain_cycles(data) == cyclic


def _snap(cmocs):
    return {"format": 1, "cmocs": cmocs, "links": [], "concepts": {"3": "Faith"}}


def _c(id, code, **kw):
    base = {
        "id": id,
        "code": code,
        "phase": "Theory gleaning",
        "statement": f"{code} statement",
        "context": "",
        "mechanism_resource": "",
        "mechanism_reasoning": "",
        "outcome": "",
        "relation": "",
        "prior_id": None,
        "prior_code": "",
        "source_count": 1,
        "elements": [["outcome", 3, "Faith", "increase"]],
        "evidence": [[100 + id, "supports", 1]],
    }
    return {**base, **kw}


def test_version_diff_names_each_kind_of_change():
    old = _snap([_c(1, "B1-1"), _c(2, "B1-2"), _c(3, "B1-3"), _c(4, "B1-4"), _c(5, "B1-5")])
    new = _snap(
        [
            _c(1, "B1-1"),  # unchanged
            _c(2, "B1-2", statement="sharper statement"),  # refined by editing
            _c(3, "B1-3", relation="refutes"),  # now refutes
            _c(4, "B1-4", evidence=[[104, "supports", 1], [200, "supports", 2]], source_count=2),
            _c(6, "B2-1", relation="refines", prior_id=5, prior_code="B1-5", phase="Eval"),
            _c(7, "B2-2", relation="novel_context"),
            _c(8, "B2-3", relation="refutes", prior_id=1, prior_code="B1-1"),
        ]
    )
    d = version_diff(old, new)
    assert d["counts"] == {
        "added": 1,
        "removed": 1,
        "refined": 2,
        "refuted": 2,
        "evidence_gained": 1,
        "evidence_lost": 0,
    }
    assert d["unchanged"] == 1
    assert [e["code"] for e in d["refined"]] == ["B1-2", "B2-1"]
    assert d["refined"][1]["why"] == "New CMOC refining B1-5"
    assert d["removed"][0]["why"] == "Removed; superseded by B2-1"
    assert {e["code"] for e in d["refuted"]} == {"B1-3", "B2-3"}
    assert d["evidence_gained"][0]["excerpts"] == [{"id": 200, "stance": "supports"}]
    assert "sources +1" in d["evidence_gained"][0]["why"]
    back = version_diff(new, old)
    assert back["counts"]["evidence_lost"] == 1 and back["counts"]["removed"] == 3


def test_version_diff_matches_recoded_cmocs_by_code_and_reports_element_changes():
    old = _snap([_c(1, "B1-1")])
    new = _snap([_c(9, "B1-1", elements=[["outcome", 3, "Faith", "decrease"]])])
    d = version_diff(old, new)
    assert d["counts"]["added"] == 0 and d["counts"]["removed"] == 0
    assert d["refined"][0]["element_changes"] == ["+ outcome: Faith ↓", "− outcome: Faith ↑"]


def test_snapshot_data_feeds_the_graph():
    snap = _snap([_c(1, "B1-1", elements=[["context", 3, "Faith", ""]]), _c(2, "B1-2")])
    snap["links"] = [{"id": 1, "source": 2, "target": 1, "kind": "moderates", "evidence": [5]}]
    data = snapshot_data(snap)
    assert data.concepts == {3: "Faith"}
    assert data.links[0]["evidence"] == 1
    assert graph.chain_count(data) == 1


def test_strongest_edges_keeps_all_nodes_and_the_heaviest_edges():
    web = graph.concept_web(seed_chain())
    pruned = graph.strongest_edges(web, 1)
    assert set(pruned.nodes) == set(web.nodes)
    assert list(pruned.edges) == [(COMPLEXITY, FAITH)]  # backed by two CMOCs
    assert pruned.graph["hidden_edges"] == web.number_of_edges() - 1
    assert graph.strongest_edges(web, 100) is web


def test_concept_web_max_edges_keeps_strongest_and_flags_cycles_on_the_full_web():
    data = seed_chain()
    data.cmocs[13] = {"code": "B2-2", "phase": "Realist evaluation", "source_count": 2}
    data.elements += [(13, "context", SYNERGY, ""), (13, "outcome", SIZE, "decrease")]
    web = graph.concept_web(data, max_edges=1)
    assert list(web.edges) == [(COMPLEXITY, FAITH)]
    assert web.graph["hidden_edges"] == graph.concept_web(data).number_of_edges() - 1
    assert web.nodes[SYNERGY]["in_cycle"] and web.edges[COMPLEXITY, FAITH]["in_cycle"]
