"""Reads for programme theory: the graph input for a review (now or at a version), snapshots,
and what a node or edge of the causal web stands for. Constant numbers of queries: rows come
back as `values_list` tuples and are joined in Python."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Prefetch

from cmoc import graph
from cmoc.models import CMOC, CMOCElement, CMOCEvidence, CMOCLink, Concept, Excerpt, TheoryVersion
from cmoc.theory_diff import SNAPSHOT_FORMAT, snapshot_data
from synthesis.models import Review


def theory_data(*, review: Review) -> graph.TheoryData:
    """The review's current CMOCs, elements, concepts and asserted links (4 queries)."""
    cmocs = {
        pk: {
            "code": code,
            "phase": phase or "",
            "statement": statement,
            "relation": relation,
            "theme": theme,
            "source_count": sources,
        }
        for pk, code, phase, statement, relation, theme, sources in CMOC.objects.filter(
            review=review
        )
        .order_by()
        .values_list("pk", "code", "phase__name", "statement", "relation", "theme", "source_count")
    }
    elements = list(
        CMOCElement.objects.filter(cmoc__review=review)
        .order_by()
        .values_list("cmoc_id", "role", "concept_id", "direction")
    )
    concepts = dict(Concept.objects.filter(review=review).order_by().values_list("pk", "label"))
    links = [
        {"id": pk, "source": s, "target": t, "kind": k, "evidence": n}
        for pk, s, t, k, n in CMOCLink.objects.filter(review=review)
        .order_by()
        .annotate(n=Count("evidence"))
        .values_list("pk", "source_id", "target_id", "kind", "n")
    ]
    return graph.TheoryData(cmocs=cmocs, elements=elements, concepts=concepts, links=links)


def version_get(*, review: Review, number: int) -> TheoryVersion:
    return (
        TheoryVersion.objects.filter(review=review).select_related("created_by").get(number=number)
    )


def version_list(*, review: Review):
    return (
        TheoryVersion.objects.filter(review=review)
        .select_related("created_by")
        .defer("snapshot")
        .order_by("number")
    )


def web_data(*, review: Review, version: int | None = None) -> graph.TheoryData:
    """Graph input now (version None) or as frozen in a programme theory version."""
    if version is None:
        return theory_data(review=review)
    return snapshot_data(version_get(review=review, number=version).snapshot)


def snapshot_build(*, review: Review, cmoc_ids=None, phase_names=None) -> dict:
    """The snapshot JSON of the review's CMOCs (all, or the given ids / phases): CMOCs with
    elements, relation, prior, evidence excerpt ids (with stance and study) and source
    counts, plus asserted links among them. Five queries whatever the size."""
    qs = CMOC.objects.filter(review=review).order_by("code")
    if cmoc_ids is not None:
        qs = qs.filter(pk__in=list(cmoc_ids))
    if phase_names is not None:
        qs = qs.filter(phase__name__in=list(phase_names))
    fields = (
        "pk",
        "code",
        "phase__name",
        "theme",
        "statement",
        "context",
        "mechanism_resource",
        "mechanism_reasoning",
        "outcome",
        "origin",
        "relation",
        "prior_id",
        "prior__code",
        "source_count",
    )
    rows = list(qs.values_list(*fields))
    ids = [r[0] for r in rows]
    elements: dict[int, list] = defaultdict(list)
    concepts: dict[str, str] = {}
    for cmoc_id, role, concept_id, label, direction in (
        CMOCElement.objects.filter(cmoc__review=review, cmoc_id__in=qs.values("pk"))
        .order_by("cmoc_id", "role", "id")
        .values_list("cmoc_id", "role", "concept_id", "concept__label", "direction")
    ):
        elements[cmoc_id].append([role, concept_id, label, direction])
        concepts[str(concept_id)] = label
    evidence: dict[int, list] = defaultdict(list)
    for cmoc_id, excerpt_id, stance, study_id in (
        CMOCEvidence.objects.filter(cmoc__review=review, cmoc_id__in=qs.values("pk"))
        .order_by("cmoc_id", "excerpt_id")
        .values_list("cmoc_id", "excerpt_id", "stance", "excerpt__document__study_id")
    ):
        evidence[cmoc_id].append([excerpt_id, stance, study_id])
    idset = set(ids)
    link_rows = list(
        CMOCLink.objects.filter(review=review, source_id__in=idset, target_id__in=idset)
        .order_by("pk")
        .values_list("pk", "source_id", "target_id", "kind", "note")
    )
    link_evidence: dict[int, list] = defaultdict(list)
    for link_id, excerpt_id in (
        CMOCLink.evidence.through.objects.filter(cmoclink_id__in=[r[0] for r in link_rows])
        .order_by("excerpt_id")
        .values_list("cmoclink_id", "excerpt_id")
    ):
        link_evidence[link_id].append(excerpt_id)
    keys = ("id", *fields[1:])
    cmocs = []
    for row in rows:
        c = dict(zip(keys, row, strict=True))
        c["phase"] = c.pop("phase__name") or ""
        c["prior_code"] = c.pop("prior__code") or ""
        c["elements"] = elements.get(c["id"], [])
        c["evidence"] = evidence.get(c["id"], [])
        cmocs.append(c)
    return {
        "format": SNAPSHOT_FORMAT,
        "cmocs": cmocs,
        "links": [
            {
                "id": pk,
                "source": s,
                "target": t,
                "kind": k,
                "note": note,
                "evidence": link_evidence.get(pk, []),
            }
            for pk, s, t, k, note in link_rows
        ],
        "concepts": concepts,
    }


def panel_cmocs(*, review: Review, cmoc_ids: list[int], version: int | None = None) -> list[dict]:
    """The CMOCs behind a node or edge, with their supporting/contradicting excerpts, for the
    web's side panel — as they are now, or as frozen in the version (3–4 queries)."""
    if version is None:
        snap = snapshot_build(review=review, cmoc_ids=cmoc_ids)
    else:
        full = version_get(review=review, number=version).snapshot
        wanted = set(cmoc_ids)
        snap = {"cmocs": [c for c in full.get("cmocs", []) if c["id"] in wanted]}
    cmocs = snap["cmocs"]
    excerpt_ids = {e[0] for c in cmocs for e in c.get("evidence", [])}
    excerpts = excerpts_by_id(review=review, ids=excerpt_ids)
    order = {pk: i for i, pk in enumerate(cmoc_ids)}
    for c in cmocs:
        c["excerpts"] = [
            {"excerpt": excerpts[e[0]], "stance": e[1]}
            for e in c.get("evidence", [])
            if e[0] in excerpts
        ]
        c["supported"] = (c.get("source_count") or 0) >= 2
    cmocs.sort(key=lambda c: (order.get(c["id"], 0), c["code"]))
    return cmocs


def excerpts_by_id(*, review: Review, ids) -> dict[int, Excerpt]:
    """Excerpts (with document and study) of this review, by id; one query."""
    if not ids:
        return {}
    return {
        e.pk: e
        for e in Excerpt.objects.filter(review=review, pk__in=list(ids)).select_related(
            "document__study", "document__participant"
        )
    }


def link_list(*, review: Review):
    return (
        CMOCLink.objects.filter(review=review)
        .select_related("source", "target", "created_by")
        .prefetch_related(
            Prefetch("evidence", queryset=Excerpt.objects.select_related("document__study"))
        )
        .order_by("source__code", "target__code")
    )


def concept_choices(*, review: Review) -> list[tuple[int, str]]:
    return list(Concept.objects.filter(review=review).order_by("label").values_list("pk", "label"))


def filter_options(*, review: Review) -> dict:
    """Distinct phases and themes for the web's filters (2 queries)."""
    return {
        "phases": list(review.phases.order_by("order", "name").values_list("name", flat=True)),
        "themes": list(
            CMOC.objects.filter(review=review)
            .exclude(theme="")
            .order_by("theme")
            .values_list("theme", flat=True)
            .distinct()
        ),
        "relations": CMOC.Relation.choices[1:],
    }


def web_graph(
    *,
    review: Review,
    version: int | None = None,
    level: str = "concept",
    phases=(),
    themes=(),
    relations=(),
    min_sources: int = 0,
    max_edges: int | None = None,
):
    """The filtered causal web as a networkx graph, plus the filtered input data. With
    `max_edges`, a concept web keeps only its strongest edges (for drawing)."""
    data = graph.filter_data(
        web_data(review=review, version=version),
        phases=phases,
        themes=themes,
        relations=relations,
        min_sources=min_sources,
    )
    if level == "cmoc":
        return data, graph.strongest_edges(graph.cmoc_web(data), max_edges or 20000)
    web = graph.concept_web(data, max_edges=max_edges)
    return data, web
