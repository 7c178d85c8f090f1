"""A review screened over several stages, for the tests that the per-stage figures (progress
bars, agreement, PRISMA screening counts) come out the same whatever the number of stages and
cost the same number of queries.

`screened_stages(review, users, n_stages)` adds stages in the order a realist review might use
them: title and abstract, full text, then further stages (a relevance check, the next phase's
title and abstract, ...). At every stage three members vote on twelve records with includes,
excludes (with and without a reason) and maybes, agreements and conflicts, resolutions of
some conflicts (and one of a record without a conflict), and records voted on by one reviewer
only, so that blind dual screening has records still waiting for their second vote. Each
further stage leaves one more record unvoted, so the stages' figures differ."""

from studies.models import (
    ExclusionReason,
    Record,
    ScreeningDecision,
    ScreeningResolution,
    ScreeningStage,
)
from tests.studies.screening_fixtures import make_records

KINDS = ["title_abstract", "full_text", "other", "title_abstract", "full_text", "other"]
NAMES = [
    "Title and abstract", "Full text", "Realist relevance", "Phase 2 title and abstract",
    "Phase 2 full text", "Phase 2 relevance",
]  # fmt: skip

# Per record (index): the votes of (reviewer, reviewer2, owner) at every stage ("" no vote),
# and the resolution if any. The stage number shifts the pattern so the stages differ.
PATTERNS = [
    (("include", "include", ""), None),
    (("include", "exclude", ""), "include"),  # a conflict, resolved
    (("exclude", "include", ""), None),  # a conflict, open
    (("exclude", "exclude", ""), None),
    (("maybe", "include", ""), None),  # a conflict unless maybe counts as include
    (("maybe", "exclude", ""), "exclude"),  # a conflict unless maybe counts as exclude
    (("maybe", "maybe", ""), None),
    (("include", "", ""), None),  # one vote: complete only if not dual-screened
    (("", "exclude", ""), None),
    (("include", "exclude", "exclude"), None),  # three reviewers
    (("include", "include", "include"), "exclude"),  # resolved without a conflict
    (("", "", ""), None),  # not screened yet
]


def screened_stages(review, users, n_stages: int) -> list[ScreeningStage]:
    records = make_records(review, len(PATTERNS), fulltext_status=Record.FullTextStatus.RETRIEVED)
    who = [users["reviewer"], users["reviewer2"], users["owner"]]
    stages = []
    for s in range(n_stages):
        stage = ScreeningStage.objects.create(
            review=review, kind=KINDS[s], name=NAMES[s], order=s + 1
        )
        stage.review = review
        stages.append(stage)
        reasons = [
            ExclusionReason.objects.create(stage=stage, label=f"{NAMES[s]}: {label}", order=i)
            for i, label in enumerate(["Wrong population", "Not realist"], start=1)
        ]
        for i, record in enumerate(records[s:]):  # later stages: fewer records voted on
            votes, resolution = PATTERNS[(i + s) % len(PATTERNS)]
            for j, (user, decision) in enumerate(zip(who, votes, strict=True)):
                if decision:
                    reason = reasons[(i + j) % 2] if decision == "exclude" and i % 3 else None
                    ScreeningDecision.objects.create(
                        record=record, stage=stage, reviewer=user, decision=decision,
                        reason=reason,
                    )  # fmt: skip
            if resolution:
                ScreeningResolution.objects.create(
                    record=record, stage=stage, decision=resolution, resolved_by=users["owner"],
                    reason=reasons[0] if resolution == "exclude" else None,
                )  # fmt: skip
    return stages


def figures(client, review, stages) -> dict:
    """Every per-stage figure a reviewer or analyst reads: the screening home page's progress
    bars (the logged-in client's), the open conflicts the stage headings read from the cache,
    the agreement export's rows, the RAMESES agreement fact and the PRISMA screening counts."""
    from django.core.cache import cache
    from django.urls import reverse

    from studies import selectors_screening as sel
    from synthesis.exports import agreement_rows
    from synthesis.selectors_reporting import rameses_facts

    cache.clear()
    resp = client.get(reverse("screening-home", args=[review.pk]))
    assert resp.status_code == 200
    shown = {s.name: s.progress for s in resp.context["stages"]}
    return {
        "progress": shown,
        "cached_conflicts": {s.name: sel.open_conflicts_cached(stage=s) for s in stages},
        "agreement": agreement_rows(review),
        "agreement_fact": rameses_facts(review=review)["agreement"],
        "screening_counts": sel.screening_counts(review=review),
    }
