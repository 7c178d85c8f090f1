"""Query counts of the review list, dashboard and reporting pages and downloads, at two sizes
of review (tests/query_counts.py): the same pinned number at both. Review pages start with 4
queries that resolve the review: session, user, review, role."""

import pytest
from django.urls import reverse

from tests.query_counts import SIZES, STAGE_COUNTS, measure, review_with_rows
from tests.studies.stages_data import screened_stages

pytestmark = pytest.mark.django_db


def pages(review, data) -> dict:
    r = review.pk
    study = data["studies"][0]
    out = {
        "review-list": reverse("review-list"),
        "dashboard": reverse("review-dashboard", args=[r]),
        "reporting": reverse("reporting", args=[r]),
        "reporting-jobs": reverse("reporting-jobs", args=[r]),
        "prisma": reverse("reporting-prisma", args=[r]),
        "rameses": reverse("reporting-rameses", args=[r]),
        "rameses-csv": reverse("reporting-rameses-csv", args=[r, "rameses"]),
        "api-access": reverse("reporting-api", args=[r]),
        "backup": reverse("reporting-backup", args=[r]),
        "included-ris": reverse("reporting-bibliography", args=[r, "ris"]),
        "included-bib": reverse("reporting-bibliography", args=[r, "bib"]),
        "decisions-xlsx": reverse("reporting-export", args=[r, "decisions", "xlsx"]),
        "cmocs-of-a-study-xlsx": reverse("reporting-export", args=[r, "cmocs", "xlsx"])
        + f"?study={study.pk}",
    }
    for fmt in ("csv", "xlsx", "png"):
        out[f"prisma-{fmt}"] = reverse("reporting-prisma-download", args=[r, fmt])
    for name in ("cmocs", "study-cmocs", "characteristics", "decisions", "agreement"):
        out[f"{name}-csv"] = reverse("reporting-export", args=[r, name, "csv"])
    return out


# The PRISMA counts (synthesis.selectors_reporting.prisma_counts): searches (kind, source,
# reported hits in one query), records found, records, stages, then the votes and resolutions of the title-abstract stages and
# of the full-text stages.
PRISMA = 4 + 2 * 2
# Screening agreement (synthesis.exports.agreement_rows): stages, every stage's votes'
# signature (one grouped query), the cross-tables (not cached: the test clears the cache;
# one query for all the stages) and the reviewers' names: the same whatever the number of
# stages (pinned at two sizes below too).
AGREEMENT = 1 + 1 + 1 + 1
# What a download adds: its audit event.
AUDIT = 1
# The tables of synthesis.exports check the role again (export_table).
ROLE = 1

PINNED = {
    "review-list": 3,  # session, user, memberships with reviews and counts
    # record counts, stages with vote counts, studies, CMOCs, supported, by relation, my
    # votes, by phase, events with actors
    "dashboard": 13,
    "reporting": 5,  # my export jobs
    "reporting-jobs": 5,
    "prisma": 4 + PRISMA,
    # searches, stages, versions, phases, PRISMA, agreement, then 13 counts and groupings
    "rameses": 4 + 4 + PRISMA + AGREEMENT + 13,
    "rameses-csv": 4 + 4 + PRISMA + AGREEMENT + 13 + AUDIT,
    "api-access": 5,  # my token
    "backup": 5,  # my export jobs
    "included-ris": 4 + AUDIT + 1,  # the included reports
    "included-bib": 4 + AUDIT + 1,
    "decisions-xlsx": 4 + ROLE + AUDIT + 2,  # resolutions, the votes I may see
    # study, CMOCs of its evidence, their elements and evidence (one chunk), the next chunk
    "cmocs-of-a-study-xlsx": 4 + ROLE + 1 + AUDIT + 4,
    **{f"prisma-{fmt}": 4 + PRISMA + AUDIT for fmt in ("csv", "xlsx", "png")},
    # chunks of 2000 CMOCs, each with its elements and evidence; the next chunk (empty)
    "cmocs-csv": 4 + ROLE + AUDIT + 3 + 1,
    "study-cmocs-csv": 4 + ROLE + AUDIT + 1,  # evidence rows with CMOCs and studies
    "characteristics-csv": 4 + ROLE + 1 + AUDIT + 2,  # current fields, studies, answers
    "decisions-csv": 4 + ROLE + AUDIT + 2,
    "agreement-csv": 4 + ROLE + AGREEMENT + AUDIT,
}


@pytest.mark.parametrize("n", SIZES)
def test_reporting_pages_queries_do_not_grow_with_the_rows(client_for, review, users, n):
    data = review_with_rows(review, users, n)
    counts, bodies = measure(client_for("owner"), pages(review, data))
    assert counts == {name: (200, q) for name, q in PINNED.items()}
    last = n - 1
    for name, shown in [
        ("review-list", review.title),
        ("cmocs-csv", f"G{last:03}"),
        ("study-cmocs-csv", f"G{last:03}"),
        ("characteristics-csv", f"Grown study {last:03}"),
        ("decisions-csv", f"Grown record {last}-2"),
        ("agreement-csv", f"grown{last}"),
        ("rameses", f"Database {last}"),
    ]:
        assert shown in bodies[name], (name, shown)


STAGE_PAGES = ["dashboard", "prisma", "rameses", "rameses-csv", "agreement-csv", "agreement-xlsx"]


@pytest.mark.parametrize("n_stages", STAGE_COUNTS)
def test_reporting_queries_do_not_grow_with_the_stages(client_for, review, users, n_stages):
    """The dashboard, the agreement export and the RAMESES page count every stage's figures
    in the same number of queries at 2 stages and at 4."""
    stages = screened_stages(review, users, n_stages)
    r = review.pk
    urls = {
        "dashboard": reverse("review-dashboard", args=[r]),
        "prisma": reverse("reporting-prisma", args=[r]),
        "rameses": reverse("reporting-rameses", args=[r]),
        "rameses-csv": reverse("reporting-rameses-csv", args=[r, "rameses"]),
        "agreement-csv": reverse("reporting-export", args=[r, "agreement", "csv"]),
        "agreement-xlsx": reverse("reporting-export", args=[r, "agreement", "xlsx"]),
    }
    counts, bodies = measure(client_for("owner"), urls)
    pinned = PINNED | {"agreement-xlsx": PINNED["agreement-csv"]}
    assert counts == {name: (200, pinned[name]) for name in STAGE_PAGES}
    for name in ("rameses", "agreement-csv"):
        assert stages[-1].name in bodies[name], name
