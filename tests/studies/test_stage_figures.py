"""The per-stage figures (screening home progress bars, agreement export and RAMESES fact,
PRISMA screening counts) of a review with four stages, now counted for all the stages at
once: the same figures as the stage-by-stage queries gave (pinned from them), each stage's
figures its own, "mine" live while the stage-wide counts stay cached."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studies import selectors_screening as sel
from studies.models import ScreeningDecision
from studies.services import screening as svc
from synthesis.exports import agreement_rows
from synthesis.models import Membership, Phase, Review, Role
from tests.studies.stages_data import figures, screened_stages

pytestmark = pytest.mark.django_db

TA, FT, RR, TA2 = (
    "Title and abstract",
    "Full text",
    "Realist relevance",
    "Phase 2 title and abstract",
)


def configure(review, **fields) -> Review:
    for name, value in fields.items():
        setattr(review, name, value)
    review.save()
    review.refresh_from_db()
    return review


def compact(f: dict) -> dict:
    """The figures a reader sees, without the percentages derived from them."""
    return {
        "progress": {
            n: (p["total"], p["mine"], p["decided"], p["conflicts"])
            for n, p in f["progress"].items()
        },
        "cached_conflicts": f["cached_conflicts"],
        "agreement": [r[:7] for r in f["agreement"]],
        "screening": [
            (
                s["stage"],
                s["screened"],
                s["include"],
                s["exclude"],
                s["conflict"],
                s["pending"],
                s["excluded_by_reason"],
            )
            for s in f["screening_counts"]["stages"]
        ],  # fmt: skip
    }


# The figures the stage-by-stage code gave on this data (every record dual-screened, "maybe"
# its own category, blind; seen by the reviewer). Checked by hand for title and abstract:
# 11 records voted on, 5 in conflict of which 2 resolved; 10 votes of the reviewer; realist
# relevance screens the 4 records that passed full text.
SEPARATE_DUAL = {
    "progress": {TA: (12, 10, 11, 3), FT: (12, 9, 10, 3), RR: (4, 8, 9, 3), TA2: (3, 7, 8, 2)},
    "cached_conflicts": {TA: 3, FT: 3, RR: 3, TA2: 2},
    "agreement": [
        [TA, "owner", "reviewer", 2, 1, 50.0, 0.0],
        [TA, "owner", "reviewer2", 2, 2, 100.0, 1.0],
        [TA, "reviewer", "reviewer2", 9, 4, 44.4, 0.167],
        [TA, "All pairs", "", 13, 7, 53.8, 0.25],
        [FT, "owner", "reviewer", 2, 1, 50.0, 0.0],
        [FT, "owner", "reviewer2", 2, 2, 100.0, 1.0],
        [FT, "reviewer", "reviewer2", 8, 3, 37.5, 0.091],
        [FT, "All pairs", "", 12, 6, 50.0, 0.209],
        [RR, "owner", "reviewer", 2, 1, 50.0, 0.0],
        [RR, "owner", "reviewer2", 2, 2, 100.0, 1.0],
        [RR, "reviewer", "reviewer2", 7, 3, 42.9, 0.176],
        [RR, "All pairs", "", 11, 6, 54.5, 0.295],
        [TA2, "owner", "reviewer", 2, 1, 50.0, 0.0],
        [TA2, "owner", "reviewer2", 2, 2, 100.0, 1.0],
        [TA2, "reviewer", "reviewer2", 6, 3, 50.0, 0.308],
        [TA2, "All pairs", "", 10, 6, 60.0, 0.385],
    ],
    "screening": [
        (TA, 11, 3, 3, 3, 2, {"No reason given": 1, f"{TA}: Wrong population": 2}),
        (FT, 10, 2, 3, 3, 2, {f"{FT}: Wrong population": 3}),
        (RR, 9, 1, 3, 3, 2, {f"{RR}: Not realist": 1, f"{RR}: Wrong population": 2}),
        (TA2, 8, 1, 3, 2, 2, {"No reason given": 1, f"{TA2}: Wrong population": 2}),
    ],
}

# No record dual-screened, "maybe" counted as exclude, blind; seen by the owner.
EXCLUDE_SINGLE = {
    "progress": {TA: (12, 2, 11, 3), FT: (12, 2, 10, 3), RR: (2, 2, 9, 3), TA2: (1, 2, 8, 2)},
    "cached_conflicts": {TA: 3, FT: 3, RR: 3, TA2: 2},
    "agreement": [
        [TA, "owner", "reviewer", 2, 1, 50.0, 0.0],
        [TA, "owner", "reviewer2", 2, 2, 100.0, 1.0],
        [TA, "reviewer", "reviewer2", 9, 5, 55.6, 0.1],
        [TA, "All pairs", "", 13, 8, 61.5, 0.235],
        [FT, "owner", "reviewer", 2, 1, 50.0, 0.0],
        [FT, "owner", "reviewer2", 2, 2, 100.0, 1.0],
        [FT, "reviewer", "reviewer2", 8, 4, 50.0, -0.067],
        [FT, "All pairs", "", 12, 7, 58.3, 0.167],
        [RR, "owner", "reviewer", 2, 1, 50.0, 0.0],
        [RR, "owner", "reviewer2", 2, 2, 100.0, 1.0],
        [RR, "reviewer", "reviewer2", 7, 4, 57.1, 0.087],
        [RR, "All pairs", "", 11, 7, 63.6, 0.29],
        [TA2, "owner", "reviewer", 2, 1, 50.0, 0.0],
        [TA2, "owner", "reviewer2", 2, 2, 100.0, 1.0],
        [TA2, "reviewer", "reviewer2", 6, 4, 66.7, 0.25],
        [TA2, "All pairs", "", 10, 7, 70.0, 0.4],
    ],
    "screening": [
        (TA, 11, 3, 5, 3, 0,
         {"No reason given": 2, f"{TA}: Not realist": 1, f"{TA}: Wrong population": 2}),
        (FT, 10, 2, 5, 3, 0, {f"{FT}: Wrong population": 4, "No reason given": 1}),
        (RR, 9, 1, 5, 3, 0,
         {"No reason given": 2, f"{RR}: Not realist": 1, f"{RR}: Wrong population": 2}),
        (TA2, 8, 1, 5, 2, 0, {"No reason given": 2, f"{TA2}: Wrong population": 3}),
    ],
}  # fmt: skip


@pytest.mark.parametrize(
    "settings_, who, expected",
    [
        ({"maybe_counts_as": "separate", "dual_fraction": 1}, "reviewer", SEPARATE_DUAL),
        ({"maybe_counts_as": "exclude", "dual_fraction": 0}, "owner", EXCLUDE_SINGLE),
    ],
)
def test_figures_of_four_stages_are_those_counted_stage_by_stage(
    client_for, review, users, settings_, who, expected
):
    configure(review, blind_screening=True, **settings_)
    stages = screened_stages(review, users, 4)
    f = figures(client_for(who), review, stages)
    assert compact(f) == expected
    pairs = [r for r in expected["agreement"] if r[2]]
    assert f["agreement_fact"] == "; ".join(
        f"{r[0]}: {r[1]} vs {r[2]} on {r[3]} records, {r[5]} % agreement, κ = {r[6]}" for r in pairs
    )
    # The progress partial of one stage (its own queries) shows the home page's figures.
    cache.clear()
    client = client_for(who)
    for stage in stages:
        p = sel.progress(stage=sel.stage_get(review=review, stage_id=stage.pk), user=users[who])
        assert p == f["progress"][stage.name]
        resp = client.get(reverse("screening-progress", args=[review.pk, stage.pk]))
        assert resp.context["p"] == p


@pytest.mark.parametrize("maybe", ["separate", "include", "exclude"])
def test_each_stage_keeps_its_own_figures_whatever_the_other_stages(
    client_for, review, users, maybe
):
    """Counted together, no stage's figures leak into another's: the first two stages of a
    four-stage review read as in a review that has only those two."""
    configure(review, maybe_counts_as=maybe, dual_fraction=1)
    two = Review.objects.create(title="Two stages", maybe_counts_as=maybe, dual_fraction=1)
    for name, role in [("owner", Role.OWNER), ("reviewer", Role.REVIEWER),
                       ("reviewer2", Role.REVIEWER)]:  # fmt: skip
        Membership.objects.create(review=two, user=users[name], role=role)
    Phase.objects.create(review=two, name="Theory gleaning", order=1)
    two.refresh_from_db()
    client = client_for("reviewer")
    f4 = figures(client, review, screened_stages(review, users, 4))
    f2 = figures(client, two, screened_stages(two, users, 2))
    assert f2["progress"] == {n: p for n, p in f4["progress"].items() if n in (TA, FT)}
    assert f2["cached_conflicts"] == {
        TA: f4["cached_conflicts"][TA],
        FT: f4["cached_conflicts"][FT],
    }
    assert f2["agreement"] == [r for r in f4["agreement"] if r[0] in (TA, FT)]
    assert f2["screening_counts"]["stages"] == f4["screening_counts"]["stages"][:2]


def test_mine_stays_live_while_the_stage_counts_are_cached(client_for, review, users):
    configure(review, maybe_counts_as="include", dual_fraction=1)
    stages = screened_stages(review, users, 4)
    cache.clear()
    client = client_for("reviewer2")
    url = reverse("screening-home", args=[review.pk])
    before = {s.name: s.progress for s in client.get(url).context["stages"]}
    # reviewer2 votes at full text on a record nobody voted on there yet
    ft = sel.stage_get(review=review, stage_id=stages[1].pk)
    voted = ScreeningDecision.objects.filter(stage=ft).values("record_id")
    record = sel.stage_records(ft).exclude(pk__in=voted).first()
    svc.decision_record(user=users["reviewer2"], stage=ft, record=record, decision="include")
    with CaptureQueriesContext(connection) as ctx:
        after = {s.name: s.progress for s in client.get(url).context["stages"]}
    # review (4), stages with reasons, and my votes of every stage: the rest is cached
    assert len(ctx.captured_queries) == 4 + 2 + 1
    assert after[FT]["mine"] == before[FT]["mine"] + 1
    assert after[FT]["decided"] == before[FT]["decided"]  # cached for STAGE_COUNTS_TTL
    assert {n: p for n, p in after.items() if n != FT} == {
        n: p for n, p in before.items() if n != FT
    }
    assert sel.open_conflicts_cached(stage=ft) == before[FT]["conflicts"]
    cache.clear()
    fresh = {s.name: s.progress for s in client.get(url).context["stages"]}
    assert fresh[FT]["decided"] == before[FT]["decided"] + 1
    assert fresh[FT]["mine"] == after[FT]["mine"]


def test_agreement_tables_are_cached_per_stage_and_always_exact(review, users):
    configure(review, maybe_counts_as="separate", dual_fraction=1)
    stages = screened_stages(review, users, 4)
    cache.clear()
    first = agreement_rows(review)
    with CaptureQueriesContext(connection) as ctx:
        assert agreement_rows(review) == first
    assert len(ctx.captured_queries) == 3  # stages, the votes' signatures, the names
    # reviewer2 changes a vote at realist relevance: only that stage's table is counted again
    rr = sel.stage_get(review=review, stage_id=stages[2].pk)
    vote = ScreeningDecision.objects.filter(
        stage=rr, reviewer=users["reviewer2"], decision="include"
    ).first()
    ScreeningDecision.objects.filter(pk=vote.pk).update(decision="exclude")
    vote.refresh_from_db()
    vote.save()  # moves updated_at, as the services do
    with CaptureQueriesContext(connection) as ctx:
        changed = agreement_rows(review)
    assert len(ctx.captured_queries) == 4
    assert f"d1.stage_id IN ({rr.pk})" in ctx.captured_queries[2]["sql"]
    assert [r for r in changed if r[0] != RR] == [r for r in first if r[0] != RR]
    assert [r for r in changed if r[0] == RR] != [r for r in first if r[0] == RR]
    cache.clear()
    assert agreement_rows(review) == changed
