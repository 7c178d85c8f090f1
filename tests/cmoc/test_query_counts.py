"""Query counts of the coding and theory pages that list rows and had no pinned count, at two
sizes of review (tests/query_counts.py): the same pinned number at both. Every count starts
with 4 queries that resolve the review: session, user, review, role. (Pinned elsewhere: the
CMOC list, the causal web's data and panel, snapshots.)"""

import pytest
from django.db import connection
from django.urls import reverse

from cmoc.models import MiddleRangeTheory
from tests.query_counts import SIZES, measure, review_with_rows

pytestmark = pytest.mark.django_db


def pages(review, data) -> dict:
    r = review.pk
    c1 = data["cmocs"][0]
    trust, goals, engagement = data["concepts"]
    excerpt = data["excerpts"][0]
    theory = MiddleRangeTheory.objects.get(review=review, name="Grown theory")
    out = {
        "cmoc-detail": reverse("cmoc-detail", args=[r, c1.pk]),
        "codebook": reverse("codebook", args=[r]),
        "documents": reverse("coding-documents", args=[r]),
        "reader": reverse("coding-reader", args=[r, data["documents"][0].pk]),
        "excerpt-edit": reverse("coding-excerpt-edit", args=[r, excerpt.pk]),
        "cmoc-search": reverse("coding-cmoc-search", args=[r]) + "?q=grown",
        "concept-suggest": reverse("coding-concept-suggest", args=[r]) + "?q=concept",
        "cmoc-new": reverse("coding-cmoc-new", args=[r]) + f"?excerpt={excerpt.pk}",
        "cmoc-edit": reverse("coding-cmoc-edit", args=[r, c1.pk]),
        "participants": reverse("coding-participants", args=[r]),
        "theory-links": reverse("coding-theory-links", args=[r]),
        "demi-regularity": reverse("coding-demi-regularity", args=[r, data["dr"].pk]),
        "demi-regularity-edit": reverse("coding-demi-regularity-edit", args=[r, data["dr"].pk]),
        "theory-edit": reverse("coding-theory-edit", args=[r, theory.pk]),
        "web": reverse("theory-web", args=[r]),
        "web-paths": reverse("theory-web-paths", args=[r]) + f"?from={goals.pk}&to={trust.pk}",
        "versions": reverse("theory-versions", args=[r]),
        "version-detail": reverse("theory-version-detail", args=[r, 2]),
        "version-compare": reverse("theory-version-compare", args=[r]) + "?a=1&b=2",
        "links": reverse("theory-links", args=[r]),
    }
    for fmt in ("jgf", "graphml", "dot", "svg"):
        out[f"web-export-{fmt}"] = reverse("theory-web-export", args=[r, fmt])
    return out


# The causal web's graph (web-paths, exports): CMOCs, elements, concepts, links.
GRAPH = 4

PINNED = {
    # CMOC, elements, evidence (with excerpts, documents, studies), theories,
    # demi-regularities, later CMOCs, comments, its history (events with actors)
    "cmoc-detail": 12,
    "codebook": 5,  # concepts with their element counts
    "documents": 8,  # documents with counts, participants and studies (the two forms)
    "reader": 7,  # document, excerpts, their evidence
    "excerpt-edit": 6,  # excerpt, its evidence
    # by code, by words (+ the FTS selectivity look on SQLite, cmoc/search.py)
    "cmoc-search": 6 + (connection.vendor == "sqlite"),
    "concept-suggest": 6,  # by prefix, then by words
    "cmoc-new": 9,  # excerpt, document, phases, theories (any, then all)
    "cmoc-edit": 11,  # CMOC, elements, their concepts, theories, phases, theories
    "participants": 5,  # participants with document counts
    "theory-links": 8,  # demi-regularities, their CMOCs, theories, their CMOCs
    "demi-regularity": 7,  # demi-regularity, evidence, CMOCs
    "demi-regularity-edit": 6,  # demi-regularity, CMOCs
    "theory-edit": 6,  # theory, CMOCs
    "web": 8,  # phases, themes, concepts, versions
    "web-paths": 4 + GRAPH,
    "versions": 7,  # phases, themes, versions
    "version-detail": 6,  # version, the others
    # versions, the two compared, the excerpts of the evidence gained, the CMOCs still there
    "version-compare": 9,
    "links": 6,  # links with CMOCs, their evidence
    **{f"web-export-{fmt}": 4 + GRAPH for fmt in ("jgf", "graphml", "dot", "svg")},
}


@pytest.mark.parametrize("n", SIZES)
def test_coding_and_theory_pages_queries_do_not_grow_with_the_rows(client_for, review, users, n):
    data = review_with_rows(review, users, n)
    counts, bodies = measure(client_for("owner"), pages(review, data))
    assert counts == {name: (200, q) for name, q in PINNED.items()}
    last = f"G{n - 1:03}"
    for name, shown in [
        ("cmoc-detail", f"Comment {n - 1}"),
        ("codebook", f"Grown concept {n - 1}"),
        ("documents", f"Grown transcript {n - 1}"),
        ("reader", last),
        ("excerpt-edit", last),
        ("participants", last),
        ("theory-links", f"Grown DR {n - 1}"),
        ("demi-regularity", last),
        ("theory-edit", last),
        ("version-detail", last),
        ("version-compare", last),
        ("links", last),
        ("web-export-jgf", f"Grown concept {n - 1}"),
    ]:
        assert shown in bodies[name], (name, shown)
