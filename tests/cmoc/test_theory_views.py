"""Causal web pages, exports, programme theory versions and asserted links, end to end."""

import io
import json
import xml.etree.ElementTree as ET
from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from cmoc import selectors_theory
from cmoc.demo_theory import build_demo_versions
from cmoc.models import CMOC, CMOCEvidence, CMOCLink, Excerpt, TheoryVersion
from cmoc.services.theory import cmoc_link_create, cmoc_link_delete, theory_version_create
from synthesis.models import Review, ReviewEvent
from tests.cmoc.theory_fixtures import build_chain_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(review):
    return build_chain_review(review)


def _url(name, review, *args):
    return reverse(name, args=[review.pk, *args])


def _web(client, review, **params):
    r = client.get(_url("theory-web-data", review), params)
    assert r.status_code == 200
    return r.json()


def test_web_data_shows_the_seed_chain(client_for, review, chain):
    data = _web(client_for("viewer"), review)
    nodes = {e["data"]["label"]: e for e in data["elements"] if e["group"] == "nodes"}
    edges = {
        (e["data"]["source"], e["data"]["target"]): e["data"]
        for e in data["elements"]
        if e["group"] == "edges"
    }
    ids = {label: n["data"]["id"] for label, n in nodes.items()}
    chain_ = [
        "Organisational size",
        "Perceived task complexity",
        "Faith",
        "Collaborative behaviour",
    ]
    for a, b in zip(chain_, chain_[1:], strict=False):
        assert (ids[a], ids[b]) in edges, (a, b)
    assert nodes["Faith"]["data"]["role"] == "link"
    # B1-1 says "+", B2-2 leaves the mechanism unsigned: mixed.
    assert edges[(ids["Organisational size"], ids["Perceived task complexity"])]["sign"] == "±"
    assert edges[(ids["Interoperable IT systems"], ids["Perceived task complexity"])]["sign"] == "-"
    assert data["stats"]["cmocs"] == 5
    # B1-1 and B2-2 end in faith, B1-3 and B2-1 start from it; B1-2 ends in faith too.
    assert data["stats"]["chain_edges"] == 3 * 2
    assert all("position" in n for n in nodes.values())


def test_web_filters_by_phase_theme_relation_and_sources(client_for, review, chain):
    c = client_for("viewer")
    labels = lambda d: {e["data"]["label"] for e in d["elements"] if e["group"] == "nodes"}  # noqa: E731
    gleaning = _web(c, review, phase="Theory gleaning")
    assert gleaning["stats"]["cmocs"] == 3 and "Synergy" not in labels(gleaning)
    assert _web(c, review, relation="refutes")["stats"]["cmocs"] == 1
    assert _web(c, review, theme="Evaluation")["stats"]["cmocs"] == 2
    assert _web(c, review, min_sources=2)["stats"]["cmocs"] == 2
    cmoc_level = _web(c, review, level="cmoc")
    assert labels(cmoc_level) == {"B1-1", "B1-2", "B1-3", "B2-1", "B2-2"}


def test_cmoc_view_asks_for_a_filter_when_too_big(client_for, review, chain, monkeypatch):
    from cmoc import views_theory

    monkeypatch.setattr(views_theory, "CMOC_VIEW_MAX", 4)
    c = client_for("viewer")
    big = _web(c, review, level="cmoc")
    assert big["elements"] == [] and "too many for the chain view" in big["message"]
    assert len(_web(c, review, level="cmoc", phase="Theory gleaning")["elements"]) > 3


def test_web_data_query_count_is_constant(client_for, review, chain, django_assert_max_num_queries):
    c = client_for("viewer")
    with django_assert_max_num_queries(9) as small:
        _web(c, review)
    # Grow the review: 40 more CMOCs reusing the concepts.
    concepts = list(chain["concepts"].values())
    for i in range(40):
        cmoc = CMOC.objects.create(review=review, code=f"X-{i}", statement="s", source_count=1)
        cmoc.elements.create(role="context", concept=concepts[i % 7], direction="")
        cmoc.elements.create(role="outcome", concept=concepts[(i + 1) % 7], direction="increase")
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert _web(c, review)["stats"]["cmocs"] == 45


def test_panel_lists_cmocs_and_evidence_of_a_concept(client_for, review, chain):
    c = client_for("viewer")
    faith = chain["concepts"]["Faith"].pk
    r = c.get(_url("theory-web-panel", review), {"node": faith, "phase": "Theory gleaning"})
    html = r.content.decode()
    assert r.status_code == 200
    assert "B1-1" in html and "B1-2" in html and "B1-3" in html and "B2-1" not in html
    assert "Aunger 2021" in html and "p. 3" in html
    size, complexity = (
        chain["concepts"]["Organisational size"],
        chain["concepts"]["Perceived task complexity"],
    )
    r = c.get(_url("theory-web-panel", review), {"source": size.pk, "target": complexity.pk})
    html = r.content.decode()
    assert "Organisational size → Perceived task complexity" in html
    assert "B1-1" in html and "B2-2" in html and "B1-2" not in html
    r = c.get(_url("theory-web-panel", review), {"node": 999999})
    assert "Nothing here" in r.content.decode()


def test_panel_query_count_is_constant(client_for, review, chain, django_assert_max_num_queries):
    c = client_for("viewer")
    faith = chain["concepts"]["Faith"].pk
    with django_assert_max_num_queries(14) as few:
        c.get(_url("theory-web-panel", review), {"node": faith})
    for i in range(15):
        cmoc = CMOC.objects.create(review=review, code=f"F-{i}", statement="s")
        cmoc.elements.create(role="context", concept=chain["concepts"]["Faith"])
        ex = Excerpt.objects.create(
            review=review, document=chain["docs"]["Aunger 2021"], text=f"t{i}", start=1, end=2
        )
        CMOCEvidence.objects.create(cmoc=cmoc, excerpt=ex)
    with django_assert_max_num_queries(len(few.captured_queries)):
        r = c.get(_url("theory-web-panel", review), {"node": faith})
    assert "F-14" in r.content.decode()


def test_path_finder_lists_paths_with_their_cmocs(client_for, review, chain):
    c = client_for("viewer")
    size = chain["concepts"]["Organisational size"].pk
    behaviour = chain["concepts"]["Collaborative behaviour"].pk
    r = c.get(_url("theory-web-paths", review), {"from": size, "to": behaviour})
    html = r.content.decode()
    assert "2 paths" in html
    paths = json.loads(unescape(html.split("data-paths='")[1].split("'")[0]))
    ids = lambda *labels: [f"c{chain['concepts'][x].pk}" for x in labels]  # noqa: E731
    assert paths[0] == ids(
        "Organisational size", "Perceived task complexity", "Faith", "Collaborative behaviour"
    )
    assert paths[1] == ids(
        "Organisational size",
        "Perceived task complexity",
        "Faith",
        "Trust",
        "Collaborative behaviour",
    )
    r = c.get(
        _url("theory-web-paths", review),
        {"from": behaviour, "to": size, "phase": "Theory gleaning"},
    )
    assert "No path" in r.content.decode()


@pytest.mark.parametrize("fmt", ["jgf", "graphml", "dot", "svg"])
def test_exports_from_the_page(client_for, review, chain, fmt):
    r = client_for("analyst").get(
        _url("theory-web-export", review, fmt), {"phase": "Theory gleaning"}
    )
    assert r.status_code == 200
    assert "attachment" in r["Content-Disposition"]
    body = r.content.decode()
    if fmt == "jgf":
        assert len(json.loads(body)["graph"]["nodes"]) == 6
    elif fmt in {"graphml", "svg"}:
        ET.fromstring(body)
    else:
        assert body.startswith("digraph")
    assert "Synergy" not in body


def test_permissions(client_for, review, chain):
    assert client_for("outsider").get(_url("theory-web", review)).status_code == 404
    assert client_for("outsider").get(_url("theory-web-data", review)).status_code == 404
    assert client_for("outsider").get(_url("theory-versions", review)).status_code == 404
    viewer = client_for("viewer")
    assert viewer.get(_url("theory-web", review)).status_code == 200
    assert viewer.get(_url("theory-web-export", review, "svg")).status_code == 403
    r = viewer.post(_url("theory-versions", review), {"label": "x", "kind": "refined"})
    assert r.status_code == 403
    assert client_for("analyst").post(_url("theory-links", review), {}).status_code == 403
    assert viewer.get(_url("theory-web-data", review), {"version": 9}).status_code == 404
    assert client_for("analyst").get(_url("theory-web-export", review, "pdf")).status_code == 404
    assert TheoryVersion.objects.count() == 0


def test_web_page_renders_filters_and_nav(client_for, review, chain):
    html = client_for("viewer").get(_url("theory-web", review)).content.decode()
    assert "vendor/cytoscape.min.js" in html
    assert 'value="Theory gleaning"' in html and "Causal web" in html
    assert "Export this view" not in html  # viewers cannot export


def test_version_create_snapshots_and_audits(users, review, chain):
    v1 = theory_version_create(
        review=review,
        user=users["reviewer"],
        label="Gleaned",
        kind="gleaned",
        rationale="Box 1",
        phase_names=["Theory gleaning"],
    )
    assert v1.number == 1
    snap = v1.snapshot
    assert [c["code"] for c in snap["cmocs"]] == ["B1-1", "B1-2", "B1-3"]
    b11 = snap["cmocs"][0]
    assert b11["phase"] == "Theory gleaning" and b11["source_count"] == 2
    assert ["outcome", chain["concepts"]["Faith"].pk, "Faith", "decrease"] in b11["elements"]
    assert len(b11["evidence"]) == 2 and b11["evidence"][0][1] == "supports"
    v2 = theory_version_create(review=review, user=users["owner"], label="All")
    assert v2.number == 2 and len(v2.snapshot["cmocs"]) == 5
    assert v2.snapshot["cmocs"][3]["prior_code"] == "B1-3"
    events = ReviewEvent.objects.filter(verb="theory_version.create").order_by("id")
    assert [e.data["number"] for e in events] == [1, 2]
    # The snapshot is frozen: editing a CMOC later does not change the version.
    chain["cmocs"]["B1-1"].statement = "changed"
    chain["cmocs"]["B1-1"].save()
    v1.refresh_from_db()
    assert v1.snapshot["cmocs"][0]["statement"].startswith("A larger organisation")


def test_version_create_rejects_bad_input_and_roles(users, review, chain):
    with pytest.raises(ValidationError) as exc:
        theory_version_create(review=review, user=users["owner"], label="  ")
    assert "label" in exc.value.message_dict
    with pytest.raises(ValidationError):
        theory_version_create(review=review, user=users["owner"], label="x", phase_names=["None"])
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    with pytest.raises(PermissionDenied):
        theory_version_create(review=review, user=users["analyst"], label="x")
    with pytest.raises(Http404):
        theory_version_create(review=review, user=users["outsider"], label="x")
    assert TheoryVersion.objects.count() == 0


def test_version_pages_and_diff(client_for, users, review, chain):
    c = client_for("reviewer")
    r = c.post(
        _url("theory-versions", review),
        {"label": "Gleaned programme theory", "kind": "gleaned", "phases": ["Theory gleaning"]},
    )
    assert r.status_code == 302
    # Between versions, B1-2 gains an excerpt from a second study.
    ex = Excerpt.objects.create(
        review=review,
        document=chain["docs"]["Mervyn 2019"],
        text="IT made it simpler",
        start=5,
        end=9,
    )
    CMOCEvidence.objects.create(cmoc=chain["cmocs"]["B1-2"], excerpt=ex)
    CMOC.objects.filter(pk=chain["cmocs"]["B1-2"].pk).update(source_count=2)
    r = c.post(_url("theory-versions", review), {"label": "Evaluation", "kind": "evaluated"})
    assert r.status_code == 302
    bad = c.post(_url("theory-versions", review), {"label": "", "kind": "nonsense"})
    assert bad.status_code == 400 and "This field is required" in bad.content.decode()

    html = c.get(_url("theory-versions", review)).content.decode()
    assert "v1 Gleaned programme theory" in html and "v2 Evaluation" in html
    html = c.get(_url("theory-version-detail", review, 1)).content.decode()
    assert "B1-3" in html and "B2-1" not in html
    r = c.get(_url("theory-version-compare", review), {"a": 1, "b": 2})
    html = r.content.decode()
    assert "0 added, 1 refined, 1 refuted, 0 removed" in html
    assert "evidence gained on 1" in html
    assert "New CMOC refining B1-3" in html and "New CMOC refuting B1-1" in html
    assert "IT made it simpler" in html
    assert reverse("cmoc-detail", args=[review.pk, chain["cmocs"]["B2-1"].pk]) in html
    assert c.get(_url("theory-version-compare", review), {"a": 1, "b": 7}).status_code == 404
    # The web of a version comes from its snapshot.
    assert _web(c, review, version=1)["stats"]["cmocs"] == 3
    faith = chain["concepts"]["Faith"].pk
    panel = c.get(_url("theory-web-panel", review), {"node": faith, "version": 1})
    assert "As frozen in programme theory v1" in panel.content.decode()


def test_links_create_delete_and_validate(users, review, chain, client_for):
    b21, b22 = chain["cmocs"]["B2-1"], chain["cmocs"]["B2-2"]
    ex = chain["excerpts"][("B2-2", "Interview P07")]
    link = cmoc_link_create(
        review=review,
        user=users["reviewer"],
        source=b21,
        target=b22,
        kind="countervailing",
        note="synergy offsets size",
        evidence_ids=[ex.pk],
    )
    assert list(link.evidence.all()) == [ex]
    data = selectors_theory.theory_data(review=review)
    assert data.links == [
        {"id": link.pk, "source": b21.pk, "target": b22.pk, "kind": "countervailing", "evidence": 1}
    ]
    snap = selectors_theory.snapshot_build(review=review)
    assert snap["links"][0]["evidence"] == [ex.pk]
    other = Review.objects.create(title="Other")
    foreign = CMOC.objects.create(review=other, code="Z", statement="z")
    for kwargs, field in [
        ({"source": b21, "target": b21}, "target"),
        ({"source": b21, "target": foreign.pk}, "target"),
        ({"source": b21, "target": b22, "kind": "countervailing"}, "target"),  # duplicate
        ({"source": b21, "target": b22, "kind": "bogus"}, "kind"),
        ({"source": b22, "target": b21, "evidence_ids": [999999]}, "evidence"),
    ]:
        with pytest.raises(ValidationError) as exc:
            cmoc_link_create(review=review, user=users["owner"], **kwargs)
        assert field in exc.value.message_dict
    c = client_for("reviewer")
    html = c.get(_url("theory-links", review)).content.decode()
    assert "Countervailing" in html and "synergy offsets size" in html
    r = c.post(
        _url("theory-links", review), {"source": "B1-1", "target": "NOPE", "kind": "moderates"}
    )
    assert r.status_code == 400 and "Choose a CMOC of this review" in r.content.decode()
    r = c.post(
        _url("theory-links", review),
        {"source": "B1-1", "target": "B1-3", "kind": "outcome_context", "evidence": "x"},
    )
    assert r.status_code == 400 and "not an excerpt id" in r.content.decode()
    r = c.post(
        _url("theory-links", review), {"source": "B1-1", "target": "B1-3", "kind": "moderates"}
    )
    assert r.status_code == 302 and CMOCLink.objects.count() == 2
    assert c.post(_url("theory-link-delete", review, link.pk)).status_code == 302
    assert not CMOCLink.objects.filter(pk=link.pk).exists()
    with pytest.raises(ValidationError):
        cmoc_link_delete(review=review, user=users["owner"], link=link.pk)
    verbs = list(
        ReviewEvent.objects.filter(verb__startswith="cmoc_link").values_list("verb", flat=True)
    )
    assert sorted(verbs) == ["cmoc_link.create", "cmoc_link.create", "cmoc_link.delete"]


def test_snapshot_build_query_count_is_constant(review, chain, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        small = selectors_theory.snapshot_build(review=review)
    for i in range(20):
        cmoc = CMOC.objects.create(review=review, code=f"Y-{i}", statement="s")
        cmoc.elements.create(role="context", concept=chain["concepts"]["Trust"])
    with django_assert_max_num_queries(5):
        big = selectors_theory.snapshot_build(review=review)
    assert len(big["cmocs"]) == len(small["cmocs"]) + 20


def test_export_web_command(review, chain, users, tmp_path):
    out = io.StringIO()
    call_command("export_web", review=review.pk, format="jgf", stdout=out)
    graph_ = json.loads(out.getvalue())["graph"]
    assert {n["label"] for n in graph_["nodes"].values()} >= {"Faith", "Organisational size"}
    theory_version_create(
        review=review, user=users["owner"], label="v", phase_names=["Theory gleaning"]
    )
    target = tmp_path / "web.svg"
    call_command(
        "export_web",
        "--review",
        str(review.pk),
        "--format",
        "svg",
        "--version",
        "1",
        "--output",
        str(target),
        stderr=io.StringIO(),
    )
    svg = target.read_text()
    ET.fromstring(svg)
    assert "Synergy" not in svg and "Faith" in svg
    out = io.StringIO()
    call_command("export_web", review=review.pk, format="dot", level="cmoc", stdout=out)
    assert '"mB1' not in out.getvalue() and "B2-1" in out.getvalue()
    with pytest.raises(CommandError, match="No review"):
        call_command("export_web", review=99999, format="dot")
    with pytest.raises(CommandError, match="no programme theory version 5"):
        call_command("export_web", review=review.pk, format="dot", version=5)


def test_demo_hook_builds_two_versions_with_a_meaningful_diff(users, review, chain, client_for):
    v1, v2 = build_demo_versions(review=review, user=users["owner"])
    assert v1.label == "Gleaned programme theory (Box 1)" and v1.kind == "gleaned"
    assert {c["code"] for c in v1.snapshot["cmocs"]} == {"B1-1", "B1-2", "B1-3"}
    assert v2.label == "Realist evaluation (Box 2 added)" and len(v2.snapshot["cmocs"]) == 5
    assert build_demo_versions(review=review, user=users["owner"]) == [v1, v2]  # idempotent
    from cmoc.theory_diff import version_diff

    diff = version_diff(v1.snapshot, v2.snapshot)
    assert diff["counts"]["refined"] == 1 and diff["counts"]["refuted"] == 1
