"""Screening prioritisation in the app: train in a background job, score undecided records,
retrain as decisions arrive, stopping guidance, and the owner's exclude-the-rest action.

What the model learns from (dual/blind screening holds):
- a reconciled decision (ScreeningResolution) when there is one;
- otherwise the reviewers' votes when they agree (one reviewer, or two who agree);
- records whose votes disagree and are not yet resolved are NOT used;
- decisions written by automation (the exclude-remaining action) are never used.
Records that carry a usable label get no score, and records with a single vote are
labelled, so a score can never reveal a reviewer's vote to another reviewer (a model scores
its own training records near 0 or 1). Records in conflict or with no vote are scored.

Entry points for other modules:
- `ranking_maybe_retrain(stage)`: call after every screening decision; cheap (3 queries)
  and enqueues a background retrain every RANKING_RETRAIN_EVERY new decisions.
- `ranking_request(user=, stage=)`: "retrain now".
- `ranking_exclude_remaining(user=, stage=)`: owner-only.
- `ranking_panel_context(stage)` (selector) for the panel template.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
import zlib
from collections import defaultdict
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from scipy import sparse

from studies import ranking, stopping
from studies.models import (
    Decision,
    RankingRun,
    Record,
    RecordScore,
    ScreeningDecision,
    ScreeningResolution,
    ScreeningStage,
)
from synthesis.audit import event_record
from synthesis.jobs import job_enqueue, job_progress
from synthesis.models import Job, Review
from synthesis.permissions import Action, check

log = logging.getLogger(__name__)

JOB_KIND = "ranking"
JOB_FUNC = "studies.services.ranking.ranking_train"
TERMS_PER_RECORD = 5
# Terms are named for the highest-ranked records only (naming re-reads each record's text);
# the rest get theirs when a retrain brings them up.
TERMS_FOR_TOP = 1000
AUTOMATION_NOTE = "Excluded by the owner's 'exclude the remaining records' action (automation)."


def retrain_every() -> int:
    return max(1, int(getattr(settings, "RANKING_RETRAIN_EVERY", 10)))


# --- cached term counts ----------------------------------------------------------------


def _cache_path(review_id: int) -> Path:
    base = getattr(settings, "RANKING_CACHE_DIR", None) or Path(settings.MEDIA_ROOT) / "ranking"
    return Path(base) / f"review-{review_id}.npz"


def cached_term_counts(review_id: int, ids: list[int], texts: list[str]) -> sparse.csr_matrix:
    """Hashed term counts for the records, reusing rows computed by earlier runs (a record's
    row is reused only while its text is unchanged). Tokenising is the slow step; with the
    cache a retrain on a large review only reads the new records."""
    path = _cache_path(review_id)
    keys = np.fromiter((zlib.crc32(t.encode()) for t in texts), dtype=np.uint32, count=len(texts))
    ids_a = np.asarray(ids, dtype=np.int64)
    old = None
    try:
        with np.load(path) as z:
            old_ids, old_keys = z["ids"], z["keys"]
            old = sparse.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
    except (OSError, ValueError, KeyError):
        old = None
    pos = np.full(len(ids_a), -1, dtype=np.int64)
    if old is not None:
        where = {int(i): r for r, i in enumerate(old_ids.tolist())}
        for j, (i, k) in enumerate(zip(ids_a.tolist(), keys.tolist(), strict=True)):
            r = where.get(i)
            if r is not None and int(old_keys[r]) == k:
                pos[j] = r
    missing = np.flatnonzero(pos < 0)
    if old is None or len(missing) == len(ids_a):
        counts = ranking.term_counts(texts)
    elif len(missing):
        new = ranking.term_counts([texts[i] for i in missing])
        pos[missing] = old.shape[0] + np.arange(len(missing))
        counts = sparse.vstack([old, new], format="csr")[pos]
    else:
        counts = old[pos]
    if len(missing):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
        os.close(fd)
        counts = counts.tocsr()
        np.savez(
            tmp,
            ids=ids_a,
            keys=keys,
            data=counts.data,
            indices=counts.indices,
            indptr=counts.indptr,
            shape=np.asarray(counts.shape),
        )
        os.replace(tmp, path)  # atomic: a concurrent reader sees the old or the new file
    return counts.tocsr()


# --- reading the stage's decisions ----------------------------------------------------


def _label_of(decision: str, maybe_counts_as: str) -> int | None:
    if decision == Decision.INCLUDE:
        return 1
    if decision == Decision.EXCLUDE:
        return 0
    if decision == Decision.MAYBE and maybe_counts_as in (Decision.INCLUDE, Decision.EXCLUDE):
        return 1 if maybe_counts_as == Decision.INCLUDE else 0
    return None


def stage_labels(stage: ScreeningStage, *, maybe_counts_as: str | None = None) -> dict:
    """The stage's usable labels and screening history, in two queries.

    Returns {"labels": {record_id: 0/1}, "history": [0/1 in screening order],
    "voted": set of record ids with any human vote or resolution, "conflicts": int,
    "automation": int (records excluded by automation)}."""
    if maybe_counts_as is None:
        maybe_counts_as = (
            Review.objects.filter(pk=stage.review_id)
            .values_list("maybe_counts_as", flat=True)
            .get()
        )
    votes: dict[int, set[int | None]] = defaultdict(set)
    first_at: dict[int, object] = {}
    automation: set[int] = set()
    rows = (
        ScreeningDecision.objects.filter(stage=stage, record__duplicate_of__isnull=True)
        .values_list("record_id", "decision", "created_at", "by_automation")
        .order_by("created_at", "id")
    )
    for record_id, decision, created_at, by_automation in rows:
        if by_automation:
            automation.add(record_id)
            continue
        votes[record_id].add(_label_of(decision, maybe_counts_as))
        first_at.setdefault(record_id, created_at)
    resolved = dict(
        ScreeningResolution.objects.filter(
            stage=stage, record__duplicate_of__isnull=True
        ).values_list("record_id", "decision")
    )
    labels: dict[int, int] = {}
    conflicts = 0
    for record_id, vs in votes.items():
        if record_id in resolved:
            continue
        if len(vs) == 1:
            (v,) = vs
            if v is not None:
                labels[record_id] = v
        else:
            conflicts += 1  # not used until resolved
    for record_id, decision in resolved.items():
        v = _label_of(decision, maybe_counts_as)
        if v is not None:
            labels[record_id] = v
    history = [labels[r] for r in sorted(first_at, key=first_at.__getitem__) if r in labels]
    voted = set(votes) | set(resolved)
    return {
        "labels": labels,
        "history": history,
        "voted": voted,
        "conflicts": conflicts,
        "automation": len(automation - voted),
    }


def _decision_rows(stage: ScreeningStage) -> int:
    """A cheap counter that grows with every decision (retrain trigger)."""
    return (
        ScreeningDecision.objects.filter(stage=stage, by_automation=False).count()
        + ScreeningResolution.objects.filter(stage=stage).count()
    )


def _pending_job(stage: ScreeningStage) -> Job | None:
    return (
        Job.objects.filter(
            review_id=stage.review_id,
            kind=JOB_KIND,
            status__in=[Job.Status.QUEUED, Job.Status.RUNNING],
            params__stage_id=stage.pk,
        )
        .order_by("-created_at")
        .first()
    )


def _enqueue(stage: ScreeningStage, *, user=None) -> Job:
    """One pending training job per review/stage: a second request while one is queued or
    running returns that job instead of queueing another."""
    # Serialise concurrent requests for the same stage (a no-op lock on SQLite, whose
    # write transactions are already serial).
    ScreeningStage.objects.select_for_update().filter(pk=stage.pk).first()
    pending = _pending_job(stage)
    if pending is not None:
        return pending
    return job_enqueue(
        review=stage.review,
        kind=JOB_KIND,
        func=JOB_FUNC,
        params={"review_id": stage.review_id, "stage_id": stage.pk},
        user=user,
    )


# --- services --------------------------------------------------------------------------


@transaction.atomic
def ranking_request(*, user, stage: ScreeningStage) -> Job | None:
    """Retrain now (reviewers and owner). None if the stage has no usable include and
    exclude yet."""
    check(user, stage.review_id, Action.SCREEN)
    labels = stage_labels(stage)["labels"]
    if len(set(labels.values())) < 2:
        return None
    job = _enqueue(stage, user=user)
    event_record(
        review=stage.review_id,
        actor=user,
        verb="ranking.requested",
        target=stage,
        summary=f"Retrain of screening prioritisation requested for {stage.name}",
        data={"job_id": job.pk},
    )
    return job


@transaction.atomic
def ranking_maybe_retrain(stage: ScreeningStage) -> Job | None:
    """Call after a screening decision or resolution: enqueues a background retrain once
    the stage first has a usable include and exclude, then every `retrain_every()` new
    decisions. Never trains inline, so a reviewer is never kept waiting."""
    rows = _decision_rows(stage)
    last = RankingRun.objects.filter(stage=stage).order_by("-created_at", "-id").first()
    if last is not None:
        if rows - int(last.metrics.get("decision_rows", 0)) < retrain_every():
            return None
    else:
        if rows < 2:
            return None
        labels = stage_labels(stage)["labels"]
        if len(set(labels.values())) < 2:
            return None
    return _enqueue(stage)


def ranking_train(*, job: Job, review_id: int, stage_id: int) -> dict:
    """The background job: train on usable decisions, bulk-replace the stage's scores.
    Idempotent: rerunning it on the same decisions writes the same scores."""
    t0 = time.perf_counter()
    stage = ScreeningStage.objects.select_related("review").get(pk=stage_id, review_id=review_id)
    rows_at_start = _decision_rows(stage)
    info = stage_labels(stage, maybe_counts_as=stage.review.maybe_counts_as)
    labels = info["labels"]
    if len(set(labels.values())) < 2:
        return {"skipped": "needs at least one usable include and one exclude"}
    job_progress(job, progress=1, total=4, message="Reading records")
    records = list(
        Record.objects.filter(review_id=review_id, duplicate_of__isnull=True)
        .annotate(
            automated=Exists(
                ScreeningDecision.objects.filter(
                    stage=stage, record=OuterRef("pk"), by_automation=True
                )
            )
        )
        .order_by("position", "id")
        .values_list("id", "title", "abstract", "keywords", "automated")
    )
    ids, texts, train_rows, train_y, pool_rows = [], [], [], [], []
    for rid, title, abstract, keywords, automated in records:
        if rid in labels:
            train_rows.append(len(ids))
            train_y.append(labels[rid])
        elif not automated:
            # unscreened records and records in unresolved conflict are ranked
            pool_rows.append(len(ids))
        else:
            continue
        ids.append(rid)
        texts.append(ranking.record_text(title, abstract, keywords))
    counts = cached_term_counts(review_id, ids, texts)
    pool_ids = [ids[i] for i in pool_rows]
    job_progress(job, progress=2, total=4, message=f"Training on {len(train_rows)} decisions")
    model_name = getattr(settings, "RANKING_MODEL", ranking.DEFAULT_MODEL)
    model = ranking.train(
        [],
        train_y,
        model=model_name,
        seed=0,
        counts=counts[train_rows],
        corpus_counts=counts[pool_rows],
    )
    t_train = time.perf_counter() - t0
    job_progress(job, progress=3, total=4, message=f"Scoring {len(pool_ids)} records")
    X = model.vectoriser.transform_counts(counts[pool_rows]) if pool_rows else None
    scores = ranking.score(model, [], X=X) if pool_rows else []
    order = ranking.rank(scores) if pool_rows else []
    top = order[:TERMS_FOR_TOP]
    named = (
        ranking.top_terms_many(
            model,
            [texts[pool_rows[i]] for i in top],
            X[top] if len(top) else None,
            k=TERMS_PER_RECORD,
        )
        if len(top)
        else []
    )
    terms = [[] for _ in pool_rows]
    for i, t in zip(top, named, strict=True):
        terms[int(i)] = t
    rank_of = {int(i): r for r, i in enumerate(order, start=1)}
    n_inc = sum(train_y)
    with transaction.atomic():
        run = RankingRun.objects.create(
            review_id=review_id,
            stage=stage,
            model_name=model_name,
            n_include=n_inc,
            n_exclude=len(train_y) - n_inc,
            n_ranked=len(pool_ids),
            trained_on_decisions=len(train_y),
            metrics={
                "decision_rows": rows_at_start,
                "conflicts_not_used": info["conflicts"],
                "train_seconds": round(t_train, 2),
                "seconds": round(time.perf_counter() - t0, 2),
            },
            job=job,
        )
        RecordScore.objects.filter(stage=stage).delete()
        RecordScore.objects.bulk_create(
            [
                RecordScore(
                    stage=stage,
                    record_id=rid,
                    score=round(float(scores[i]), 6),
                    rank=rank_of[i],
                    terms=terms[i],
                )
                for i, rid in enumerate(pool_ids)
            ],
            batch_size=2000,
        )
        event_record(
            review=review_id,
            actor=job.created_by,
            verb="ranking.trained",
            target=stage,
            summary=f"Prioritisation retrained on {len(train_y)} decisions; "
            f"{len(pool_ids)} records ranked",
            data={"run_id": run.pk, "model": model_name},
        )
    job_progress(job, progress=4, total=4, message="Done")
    return {"run_id": run.pk, "ranked": len(pool_ids), "trained_on": len(train_y)}


@transaction.atomic
def ranking_exclude_remaining(*, user, stage: ScreeningStage) -> int:
    """Owner only: exclude every record nobody has screened at this stage, marking the
    decisions as made by automation (PRISMA: "records marked as ineligible by automation
    tools"). Records with any vote (including conflicts) are left alone."""
    check(user, stage.review_id, Action.MANAGE)
    remaining = list(
        Record.objects.filter(review_id=stage.review_id, duplicate_of__isnull=True)
        .exclude(Exists(ScreeningDecision.objects.filter(stage=stage, record=OuterRef("pk"))))
        .exclude(Exists(ScreeningResolution.objects.filter(stage=stage, record=OuterRef("pk"))))
        .values_list("id", flat=True)
    )
    if not remaining:
        return 0
    last = RankingRun.objects.filter(stage=stage).order_by("-created_at", "-id").first()
    ScreeningDecision.objects.bulk_create(
        [
            ScreeningDecision(
                record_id=rid,
                stage=stage,
                reviewer=user,
                decision=Decision.EXCLUDE,
                note=AUTOMATION_NOTE,
                by_automation=True,
            )
            for rid in remaining
        ],
        batch_size=2000,
    )
    RecordScore.objects.filter(stage=stage, record_id__in=remaining).delete()
    event_record(
        review=stage.review_id,
        actor=user,
        verb="ranking.excluded_remaining",
        target=stage,
        summary=f"{len(remaining)} unscreened records excluded by automation at {stage.name}",
        data={"count": len(remaining), "ranking_run_id": last.pk if last else None},
    )
    return len(remaining)


# --- selectors ---------------------------------------------------------------------------


def ranking_panel_context(stage: ScreeningStage) -> dict:
    """What templates/studies/ranking/_panel.html needs, in a constant number of queries
    (6) whatever the size of the stage."""
    review = stage.review
    last = (
        RankingRun.objects.filter(stage=stage)
        .select_related("job")
        .order_by("-created_at", "-id")
        .first()
    )
    pending = _pending_job(stage)
    info = stage_labels(stage, maybe_counts_as=review.maybe_counts_as)
    n_records = Record.objects.filter(review_id=stage.review_id, duplicate_of__isnull=True).count()
    remaining = max(0, n_records - len(info["voted"]) - info["automation"])
    n_inc = sum(info["labels"].values())
    n_exc = len(info["labels"]) - n_inc
    rows = len(info["history"]) + info["conflicts"]
    new_since = None
    if last is not None:
        new_since = max(0, _decision_rows(stage) - int(last.metrics.get("decision_rows", 0)))
    return {
        "stage": stage,
        "run": last,
        "model_label": ranking.MODEL_LABELS.get(last.model_name, last.model_name) if last else "",
        "pending_job": pending,
        "trainable": n_inc > 0 and n_exc > 0,
        "n_records": n_records,
        "n_include": n_inc,
        "n_exclude": n_exc,
        "n_screened": rows,
        "n_conflicts": info["conflicts"],
        "n_automation": info["automation"],
        "remaining": remaining,
        "new_since_run": new_since,
        "retrain_every": retrain_every(),
        "guidance": stopping.guidance(info["history"], remaining),
    }


def ranking_queue(stage: ScreeningStage):
    """Scored records nobody has screened since the last run, most relevant first."""
    return (
        RecordScore.objects.filter(stage=stage, record__duplicate_of__isnull=True)
        .exclude(Exists(ScreeningDecision.objects.filter(stage=stage, record=OuterRef("record"))))
        .select_related("record")
        .order_by("rank")
    )
