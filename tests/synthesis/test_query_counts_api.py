"""Query counts of every v1 API list and detail, at two sizes of review (tests/query_counts.py):
the same pinned number at both. Every review-scoped request starts with 2 queries that resolve
the review (review, role); authentication is forced, so no session or token lookup."""

import json

import pytest
from rest_framework.test import APIClient

from cmoc.models import CMOCEvidence, TheoryVersion
from studies.models import Appraisal, ExtractionAnswer, ScreeningDecision, Search
from tests.query_counts import SIZES, measure, review_with_rows

pytestmark = pytest.mark.django_db


def client(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def pages(review, data) -> dict:
    base = f"/api/v1/reviews/{review.pk}"
    c1 = data["cmocs"][0]
    details = {
        "phases": review.phases.order_by("order").first().pk,
        "searches": Search.objects.filter(review=review).order_by("id").first().pk,
        "records": data["records"][1].pk,
        "studies": data["studies"][0].pk,
        "documents": data["documents"][0].pk,
        "screening-stages": data["stages"][1].pk,
        "screening-decisions": ScreeningDecision.objects.order_by("id").first().pk,
        "appraisals": Appraisal.objects.order_by("id").first().pk,
        "extraction-answers": ExtractionAnswer.objects.order_by("id").first().pk,
        "concepts": data["concepts"][0].pk,
        "excerpts": data["excerpts"][0].pk,
        "cmocs": c1.pk,
        "cmoc-evidence": CMOCEvidence.objects.filter(cmoc=c1).order_by("id").first().pk,
        "demi-regularities": data["dr"].pk,
        "theory-versions": TheoryVersion.objects.get(review=review, number=2).pk,
    }
    out = {"reviews": "/api/v1/reviews/", "reviews-detail": f"/api/v1/reviews/{review.pk}/"}
    for name, pk in details.items():
        out[name] = f"{base}/{name}/"
        out[f"{name}-detail"] = f"{base}/{name}/{pk}/"
    out["chains"] = f"{base}/chains/"
    return out


# A list paginated by page number counts its rows first; one paginated by cursor (records,
# screening decisions, excerpts, CMOCs, evidence) does not.
PINNED = {
    "reviews": 2,  # count, page with my role
    "reviews-detail": 1,
    "phases": 2 + 2,
    "phases-detail": 2 + 1,
    "searches": 2 + 2,  # with the records of their imports counted
    "searches-detail": 2 + 1,
    "records": 2 + 1,  # with the search of their import
    "records-detail": 2 + 1,
    "studies": 2 + 2,  # with records and documents counted
    "studies-detail": 2 + 1,
    "documents": 2 + 2,
    "documents-detail": 2 + 1,
    "screening-stages": 2 + 3,  # count, stages, their reasons
    "screening-stages-detail": 2 + 2,
    "screening-decisions": 2 + 1,  # the votes I may see, with stage, reviewer and reason
    "screening-decisions-detail": 2 + 1,
    "appraisals": 2 + 2,  # with appraiser and reason
    "appraisals-detail": 2 + 1,
    "extraction-answers": 2 + 2,  # with field and extractor
    "extraction-answers-detail": 2 + 1,
    "concepts": 2 + 2,
    "concepts-detail": 2 + 1,
    "excerpts": 2 + 1,  # with document and coder
    "excerpts-detail": 2 + 1,
    "cmocs": 2 + 3,  # page of plain rows, its elements, its evidence
    "cmocs-detail": 2 + 3,  # CMOC, elements, evidence with excerpts and sources
    "cmoc-evidence": 2 + 1,  # with excerpt, document, study and participant
    "cmoc-evidence-detail": 2 + 1,
    "demi-regularities": 2 + 3,  # count, page, their CMOCs
    "demi-regularities-detail": 2 + 2,
    "theory-versions": 2 + 2,  # with their authors, without snapshots
    "theory-versions-detail": 2 + 1,
    "chains": 2 + 2,  # count, page of computed and asserted links
}


@pytest.mark.parametrize("n", SIZES)
def test_api_lists_and_details_queries_do_not_grow_with_the_rows(review, users, n):
    data = review_with_rows(review, users, n)
    counts, bodies = measure(client(users["owner"]), pages(review, data))
    assert counts == {name: (200, q) for name, q in PINNED.items()}
    last = n - 1
    for name, shown in [
        ("reviews", f"Grown review {last:03}"),
        ("searches", f"Database {last}"),
        ("records", "Grown record 2-2"),  # a page holds 100
        ("documents", f'"count":{3 + 3 * n},'),  # report, appendix and transcript each
        ("excerpts", "zzzz"),
        ("cmocs", f"G{last:03}"),
        ("cmocs-detail", '"source":"Grown study'),
        ("cmoc-evidence", '"source":"G0'),
        ("theory-versions-detail", f"G{last:03}"),
        ("chains", f"G{last:03}"),
    ]:
        assert shown in bodies[name], (name, shown)
    assert len(json.loads(bodies["demi-regularities-detail"])["cmocs"]) == n
