"""Query counts of the identification, screening, appraisal and extraction pages that list
rows and had no pinned count, at two sizes of review (tests/query_counts.py): the same pinned
number at both. Every count starts with 4 queries that resolve the review: session, user,
review, role. (Pinned elsewhere: appraisal list, characteristics, progress, duplicates to
check, ranking, the screening queue, conflicts and agreement, full texts.)"""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studies import selectors_screening as sel
from studies.models import ExtractionForm, ImportBatch
from tests.query_counts import SIZES, STAGE_COUNTS, measure, review_with_rows
from tests.studies.stages_data import screened_stages

pytestmark = pytest.mark.django_db


def pages(review, data) -> dict:
    r = review.pk
    ta, ft = data["stages"]
    study = data["studies"][0]
    form = ExtractionForm.objects.get(review=review, name="Study characteristics")
    batch = ImportBatch.objects.filter(review=review).order_by("id").first()
    duplicates = reverse("identification-duplicates", args=[r])
    return {
        "study-list": reverse("study-list", args=[r]),
        "study-detail": reverse("study-detail", args=[r, study.pk]),
        "appraisal-study": reverse("appraisal-target", args=[r, "study", study.pk]),
        "appraisal-cmoc": reverse("appraisal-target", args=[r, "cmoc", data["cmocs"][0].pk]),
        "appraisal-excerpt": reverse(
            "appraisal-target", args=[r, "excerpt", data["excerpts"][0].pk]
        ),
        "extraction-forms": reverse("extraction-forms", args=[r]),
        "form-design": reverse("extraction-form-design", args=[r, form.pk]),
        "extraction-study": reverse("extraction-study", args=[r, form.pk, study.pk]),
        "consolidate": reverse("extraction-consolidate", args=[r, form.pk, study.pk]),
        "characteristics-csv": reverse("characteristics-csv", args=[r]),
        "characteristics-xlsx": reverse("characteristics-xlsx", args=[r]),
        "searches": reverse("identification-searches", args=[r]),
        "batch": reverse("identification-batch", args=[r, batch.pk]),
        "batch-status": (
            reverse("identification-batch", args=[r, batch.pk]) + "?part=status",
            {"HTTP_HX_REQUEST": "true"},
        ),
        "ranking-panel": reverse("ranking-panel", args=[r, ta.pk]),
        "duplicates-merged": duplicates + "?status=merged",
        "duplicates-rejected": duplicates + "?status=rejected",
        "screening-home": reverse("screening-home", args=[r]),
        "stage-edit": reverse("screening-stage-edit", args=[r, ft.pk]),
        "conflict": reverse("screening-conflict", args=[r, ta.pk, data["records"][1].pk]),
    }


# Stages with their reasons, my votes at every stage (live), then the stage-wide counts
# (cached for STAGE_COUNTS_TTL; the test clears the cache): the records of every stage,
# the votes grouped by stage and record, the resolved conflicts. The same whatever the number
# of stages (selectors_screening.progress_by_stage): pinned at two sizes below too.
SCREENING_HOME = 4 + 2 + 1 + 3

PINNED = {
    "study-list": 6,  # count, page (documents and excerpts counted in it)
    "study-detail": 8,  # study, its documents, records, answers with their fields and extractors
    "appraisal-study": 9,  # study, appraisals, their CMOCs informed, excerpts, reasons
    "appraisal-cmoc": 8,  # CMOC, appraisals, their CMOCs informed, reasons
    "appraisal-excerpt": 7,  # excerpt, appraisals, reasons
    "extraction-forms": 7,  # forms, their fields (one query: was one per form), studies
    "form-design": 7,  # form, fields, versions
    "extraction-study": 9,  # form, study, fields, answers, next study
    "consolidate": 8,  # form, study, fields, answers
    "characteristics-csv": 7,  # form, fields, answers
    "characteristics-xlsx": 7,
    "searches": 9,  # searches, PRISMA per search and records, duplicates to check, imports
    "batch": 7,  # import, its duplicates to check, its history (events with actors)
    "batch-status": 6,
    # stage, latest run, its job, stopping guidance (votes, resolutions, records, the
    # reviewers' votes in screening order, resolutions)
    "ranking-panel": 12,
    "duplicates-merged": 7,  # count, page of pairs with their records, the records' sources
    "duplicates-rejected": 7,
    "screening-home": SCREENING_HOME,
    "stage-edit": 6,  # stage, reasons
    "conflict": 9,  # stage, record, votes, resolution, reasons
}


@pytest.mark.parametrize("n", SIZES)
def test_list_pages_queries_do_not_grow_with_the_rows(client_for, review, users, n):
    data = review_with_rows(review, users, n)
    counts, bodies = measure(client_for("owner"), pages(review, data))
    assert counts == {name: (200, q) for name, q in PINNED.items()}
    last = n - 1
    for name, shown in [
        ("study-list", f"Grown study {last:03}"),
        ("study-detail", f"Grown appendix {last}"),
        ("study-detail", f"Grown record {last}-2"),
        ("appraisal-study", f"grown{last}"),
        ("appraisal-cmoc", f"grown{last}"),
        ("extraction-forms", f"Grown form {last}"),
        ("form-design", f"Grown field {last}"),
        ("consolidate", f"grown{last}"),
        ("characteristics-csv", "Mervyn et al. 2019"),
        ("searches", f"Database {last}"),
        ("duplicates-merged", "Grown record"),
        ("duplicates-rejected", "Grown record"),
        ("conflict", f"grown{last}"),
    ]:
        assert shown in bodies[name], (name, shown)


def stage_pages(review, stages) -> dict:
    r, last = review.pk, stages[-1].pk
    return {
        "screening-home": reverse("screening-home", args=[r]),
        "agreement": reverse("screening-agreement", args=[r, last]),
    }


STAGE_PINNED = {
    "screening-home": SCREENING_HOME,
    "agreement": 4 + 1 + 2 + 1,  # stage, its votes' signature and cross-table, the names
}


@pytest.mark.parametrize("n_stages", STAGE_COUNTS)
def test_screening_queries_do_not_grow_with_the_stages(client_for, review, users, n_stages):
    """A review screens in as many stages as it needs (title and abstract, full text, a
    relevance check, the next phase's...): each page costs the same at 2 stages and at 4."""
    stages = screened_stages(review, users, n_stages)
    counts, bodies = measure(client_for("reviewer"), stage_pages(review, stages))
    assert counts == {name: (200, q) for name, q in STAGE_PINNED.items()}
    assert stages[-1].name in bodies["screening-home"]
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        counts = sel.screening_counts(review=review)
    # stages, votes, resolutions, reasons of every stage; records by full-text status; studies
    assert len(ctx.captured_queries) == 6
    assert len(counts["stages"]) == n_stages
