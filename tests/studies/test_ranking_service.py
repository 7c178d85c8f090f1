"""Prioritisation in the app: the training job, the dual/blind rule, retrain triggers, the
owner's exclude-remaining action, pages and permissions."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from studies.models import (
    RankingRun,
    Record,
    RecordScore,
    ScreeningDecision,
    ScreeningResolution,
    ScreeningStage,
)
from studies.services import ranking as svc
from synthesis.models import Job, ReviewEvent

pytestmark = pytest.mark.django_db

RELEVANT = "realist review of collaboration between universities and health services {}"
IRRELEVANT = "randomised drug trial of statin dose in elderly patients {}"


def make_records(review, n_relevant, n_irrelevant, start=0):
    recs = []
    for i in range(n_relevant):
        recs.append(Record(review=review, title=RELEVANT.format(i), position=start + i))
    for i in range(n_irrelevant):
        recs.append(
            Record(review=review, title=IRRELEVANT.format(i), position=start + n_relevant + i)
        )
    return Record.objects.bulk_create(recs)


@pytest.fixture
def stage(review):
    return ScreeningStage.objects.create(
        review=review, kind=ScreeningStage.Kind.TITLE_ABSTRACT, name="Title/abstract"
    )


@pytest.fixture
def records(review):
    return make_records(review, 5, 15)


def vote(record, stage, user, decision):
    return ScreeningDecision.objects.create(
        record=record, stage=stage, reviewer=user, decision=decision
    )


@pytest.fixture(autouse=True)
def _jobs_inline(monkeypatch):
    # django-q reads Q_CLUSTER["sync"] once at import, so the conftest's settings override
    # does not reach it; switch its own flag.
    monkeypatch.setattr("django_q.conf.Conf.SYNC", True)


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    """Jobs are handed to the worker on commit; in tests that worker runs inline."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def test_training_job_scores_only_undecided_records(stage, records, users, run_jobs):
    vote(records[0], stage, users["reviewer"], "include")
    vote(records[5], stage, users["reviewer"], "exclude")
    job = run_jobs(svc.ranking_request, user=users["reviewer"], stage=stage)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    run = RankingRun.objects.get(stage=stage)
    assert (run.n_include, run.n_exclude, run.n_ranked) == (1, 1, 18)
    scores = list(RecordScore.objects.filter(stage=stage).order_by("rank"))
    assert len(scores) == 18
    assert {s.record_id for s in scores}.isdisjoint({records[0].pk, records[5].pk})
    assert sorted(s.rank for s in scores) == list(range(1, 19))
    # The four remaining relevant records come first, with the terms that put them there.
    assert {s.record_id for s in scores[:4]} == {r.pk for r in records[1:5]}
    assert scores[0].score > scores[-1].score
    assert any("realist" in t or "collaboration" in t for t in scores[0].terms)
    assert ReviewEvent.objects.filter(verb="ranking.trained").count() == 1


def test_job_is_idempotent_and_one_per_stage(stage, records, users, run_jobs):
    vote(records[0], stage, users["reviewer"], "include")
    vote(records[5], stage, users["reviewer"], "exclude")
    run_jobs(svc.ranking_request, user=users["reviewer"], stage=stage)
    first = list(RecordScore.objects.filter(stage=stage).values_list("record_id", "rank", "score"))
    run_jobs(svc.ranking_request, user=users["owner"], stage=stage)
    again = list(RecordScore.objects.filter(stage=stage).values_list("record_id", "rank", "score"))
    assert sorted(first) == sorted(again)
    assert RecordScore.objects.filter(stage=stage).count() == 18
    # While a job is queued, asking again returns it rather than queueing another.
    queued = Job.objects.create(
        review=stage.review,
        kind=svc.JOB_KIND,
        func=svc.JOB_FUNC,
        params={"review_id": stage.review_id, "stage_id": stage.pk},
    )
    assert svc.ranking_request(user=users["reviewer"], stage=stage) == queued
    assert svc.ranking_maybe_retrain(stage) is None or svc.ranking_maybe_retrain(stage) == queued


def test_conflicting_votes_are_not_used_and_single_votes_are_not_scored(
    stage, records, users, run_jobs
):
    r, r2 = users["reviewer"], users["reviewer2"]
    # Record 1: dual-screened, reviewers disagree, unresolved -> not used, still ranked.
    vote(records[1], stage, r, "include")
    vote(records[1], stage, r2, "exclude")
    vote(records[6], stage, r, "exclude")
    # Only a conflict and one exclude: nothing to learn from yet.
    assert svc.ranking_request(user=r, stage=stage) is None
    assert svc.ranking_maybe_retrain(stage) is None
    info = svc.stage_labels(stage)
    assert info["labels"] == {records[6].pk: 0} and info["conflicts"] == 1
    # Dual agreement and a single vote are usable.
    vote(records[2], stage, r, "include")
    vote(records[2], stage, r2, "include")
    run_jobs(svc.ranking_request, user=r, stage=stage)
    scored = set(RecordScore.objects.filter(stage=stage).values_list("record_id", flat=True))
    assert records[1].pk in scored  # the conflict is ranked (its votes never taught the model)
    assert records[2].pk not in scored and records[6].pk not in scored
    run = RankingRun.objects.get(stage=stage)
    assert (run.n_include, run.n_exclude) == (1, 1)
    assert run.metrics["conflicts_not_used"] == 1
    # Once resolved, the reconciled decision is used.
    ScreeningResolution.objects.create(
        record=records[1], stage=stage, decision="include", resolved_by=users["owner"]
    )
    assert svc.stage_labels(stage)["labels"][records[1].pk] == 1


def test_maybe_follows_the_review_setting(stage, records, users, review):
    vote(records[0], stage, users["reviewer"], "maybe")
    assert svc.stage_labels(stage)["labels"] == {records[0].pk: 1}
    review.maybe_counts_as = "separate"
    review.save()
    assert svc.stage_labels(stage)["labels"] == {}


def test_retrain_every_n_decisions(stage, records, users, run_jobs, settings):
    settings.RANKING_RETRAIN_EVERY = 3
    vote(records[0], stage, users["reviewer"], "include")
    assert svc.ranking_maybe_retrain(stage) is None
    vote(records[5], stage, users["reviewer"], "exclude")
    assert run_jobs(svc.ranking_maybe_retrain, stage) is not None
    assert RankingRun.objects.count() == 1
    vote(records[6], stage, users["reviewer"], "exclude")
    vote(records[7], stage, users["reviewer"], "exclude")
    assert svc.ranking_maybe_retrain(stage) is None  # 2 new < 3
    vote(records[1], stage, users["reviewer"], "include")
    assert run_jobs(svc.ranking_maybe_retrain, stage) is not None
    assert RankingRun.objects.count() == 2
    assert RecordScore.objects.filter(stage=stage).count() == 15


def test_exclude_remaining_is_owner_only_and_marked_as_automation(stage, records, users):
    vote(records[0], stage, users["reviewer"], "include")
    vote(records[1], stage, users["reviewer"], "include")
    vote(records[1], stage, users["reviewer2"], "exclude")  # conflict: left alone
    dup = Record.objects.create(review=stage.review, title="dup", duplicate_of=records[2])
    for name in ("reviewer", "analyst", "viewer"):
        with pytest.raises(PermissionDenied):
            svc.ranking_exclude_remaining(user=users[name], stage=stage)
    with pytest.raises(Http404):
        svc.ranking_exclude_remaining(user=users["outsider"], stage=stage)
    assert not ScreeningDecision.objects.filter(by_automation=True).exists()
    n = svc.ranking_exclude_remaining(user=users["owner"], stage=stage)
    assert n == 18
    auto = ScreeningDecision.objects.filter(stage=stage, by_automation=True)
    assert auto.count() == 18 and set(auto.values_list("decision", flat=True)) == {"exclude"}
    assert not auto.filter(record__in=[records[0], records[1], dup]).exists()
    assert ReviewEvent.objects.filter(verb="ranking.excluded_remaining").get().data["count"] == 18
    # Automation decisions never teach the model, and a second run excludes nothing more.
    assert set(svc.stage_labels(stage)["labels"]) == {records[0].pk}
    assert svc.ranking_exclude_remaining(user=users["owner"], stage=stage) == 0
    assert svc.ranking_panel_context(stage)["n_automation"] == 18


# --- pages ---------------------------------------------------------------------------


def url(name, stage):
    return reverse(name, args=[stage.review_id, stage.pk])


def test_page_permissions(stage, records, users, client_for, run_jobs):
    vote(records[0], stage, users["reviewer"], "include")
    vote(records[5], stage, users["reviewer"], "exclude")
    assert client_for("outsider").get(url("ranking-stage", stage)).status_code == 404
    page = client_for("viewer").get(url("ranking-stage", stage))
    assert page.status_code == 200
    assert b"Retrain now" not in page.content and b"Exclude the remaining" not in page.content
    assert client_for("viewer").post(url("ranking-retrain", stage)).status_code == 403
    assert client_for("analyst").post(url("ranking-retrain", stage)).status_code == 403
    assert client_for("reviewer").get(url("ranking-retrain", stage)).status_code == 405
    assert client_for("reviewer").get(url("ranking-exclude-remaining", stage)).status_code == 403
    assert client_for("analyst").post(url("ranking-exclude-remaining", stage)).status_code == 403
    other = ScreeningStage.objects.create(review=stage.review, kind="full_text", name="FT", order=2)
    other.review_id = 999999
    assert client_for("owner").get(url("ranking-stage", other)).status_code == 404


def test_retrain_then_queue_shows_scores_and_terms(
    stage, records, users, client_for, django_capture_on_commit_callbacks
):
    vote(records[0], stage, users["reviewer"], "include")
    vote(records[5], stage, users["reviewer"], "exclude")
    c = client_for("reviewer")
    with django_capture_on_commit_callbacks(execute=True):
        resp = c.post(url("ranking-retrain", stage))
    assert resp.status_code == 302
    page = c.get(url("ranking-stage", stage))
    html = page.content.decode()
    assert 'id="ranking-queue"' in html and 'class="num score"' in html
    assert "When to stop screening?" in html and "Knee method (Cormack &amp; Grossman 2016)" in html
    assert "Estimates, not guarantees" in html
    assert RELEVANT.format(1)[:40] in html
    # htmx retrain returns the panel only
    with django_capture_on_commit_callbacks(execute=True):
        part = c.post(url("ranking-retrain", stage), HTTP_HX_REQUEST="true")
    assert part.status_code == 200 and b"ranking-panel-" in part.content
    assert b"<html" not in part.content


def test_owner_confirms_exclude_remaining(stage, records, users, client_for):
    vote(records[0], stage, users["reviewer"], "include")
    c = client_for("owner")
    form = c.get(url("ranking-exclude-remaining", stage))
    assert form.status_code == 200 and b"19" in form.content
    assert c.post(url("ranking-exclude-remaining", stage)).status_code == 400
    assert not ScreeningDecision.objects.filter(by_automation=True).exists()
    resp = c.post(url("ranking-exclude-remaining", stage), {"confirm": "exclude"})
    assert resp.status_code == 302
    assert ScreeningDecision.objects.filter(by_automation=True).count() == 19


def test_panel_and_queue_queries_are_constant(
    stage, users, client_for, django_assert_max_num_queries, run_jobs, review
):
    recs = make_records(review, 3, 7)
    vote(recs[0], stage, users["reviewer"], "include")
    vote(recs[5], stage, users["reviewer"], "exclude")
    run_jobs(svc.ranking_request, user=users["reviewer"], stage=stage)
    c = client_for("reviewer")
    with django_assert_max_num_queries(14) as small:
        assert c.get(url("ranking-stage", stage)).status_code == 200
    more = make_records(review, 20, 60, start=100)
    for r in more[:5]:
        vote(r, stage, users["reviewer"], "include")
    for r in more[30:40]:
        vote(r, stage, users["reviewer2"], "exclude")
    run_jobs(svc.ranking_request, user=users["reviewer"], stage=stage)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert c.get(url("ranking-stage", stage)).status_code == 200


def test_term_counts_are_cached_and_refreshed_when_text_changes(review, settings, tmp_path):
    settings.RANKING_CACHE_DIR = tmp_path
    recs = make_records(review, 2, 2)
    ids = [r.pk for r in recs]
    texts = [r.title for r in recs]
    first = svc.cached_term_counts(review.pk, ids, texts)
    assert (tmp_path / f"review-{review.pk}.npz").exists()
    texts2 = [texts[0], "completely different words", texts[2], texts[3]]
    second = svc.cached_term_counts(review.pk, ids[::-1] + [], texts2[::-1])
    from studies import ranking

    assert (second[3] != first[0]).nnz == 0  # reused, reordered
    assert (second[2] != ranking.term_counts(["completely different words"])[0]).nnz == 0
