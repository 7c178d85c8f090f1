"""Reads for screening. Every page, export and API that shows screening votes goes through
`decisions_visible_to`, the one place the blinding rule lives.

Queues are keyset-paginated ("the next record after this one"), never OFFSET, so getting
the next record costs the same at record 10 and record 100,000.
"""

from __future__ import annotations

from django.db.models import (
    BigIntegerField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from studies.models import (
    Decision,
    Record,
    RecordScore,
    ScreeningDecision,
    ScreeningResolution,
    ScreeningStage,
)
from studies.screening_rules import HASH_A, HASH_C, HASH_P, dual_threshold, order_seed
from synthesis.models import Review

ORDERS = {"position": "Import order", "random": "Random", "priority": "Prioritised"}
FILTERS = {
    "undecided": "Undecided",
    "maybe": "My maybes",
    "mine": "Mine",
    "conflicts": "Conflicts",
}


def _int(v: int) -> Value:
    return Value(v, output_field=BigIntegerField())


def hash_expr(field: str | F | OuterRef, seed: int) -> ExpressionWrapper:
    """SQL twin of `screening_rules.screen_hash`."""
    ref = F(field) if isinstance(field, str) else field
    h1 = ExpressionWrapper(
        ((ref + _int(seed)) * _int(HASH_A) + _int(HASH_C)) % _int(HASH_P),
        output_field=BigIntegerField(),
    )
    return ExpressionWrapper((h1 * h1 + _int(seed)) % _int(HASH_P), output_field=BigIntegerField())


def dual_q(review: Review, field: str = "pk") -> Q:
    """Records in the dual-screened subset (lookup on an alias `_dual_h`)."""
    threshold = dual_threshold(review.dual_fraction)
    if threshold is None:
        return Q(pk__isnull=False) if field == "pk" else Q(**{f"{field}__isnull": False})
    return Q(_dual_h__lt=threshold)


def _with_dual(qs: QuerySet, review: Review, field: str = "pk") -> QuerySet:
    if dual_threshold(review.dual_fraction) is None:
        return qs
    return qs.alias(_dual_h=hash_expr("id" if field == "pk" else field, review.dual_seed))


def _votes_count(stage: ScreeningStage | OuterRef, ref: str = "pk") -> Coalesce:
    sub = (
        ScreeningDecision.objects.filter(stage=stage, record=OuterRef(ref))
        .order_by()
        .values("record")
        .annotate(c=Count("id"))
        .values("c")
    )
    return Coalesce(Subquery(sub, output_field=IntegerField()), 0)


def stage_list(*, review: Review) -> list[ScreeningStage]:
    return list(
        ScreeningStage.objects.filter(review=review).prefetch_related("reasons").order_by("order")
    )


def stage_get(*, review: Review, stage_id: int) -> ScreeningStage:
    stage = ScreeningStage.objects.select_related("review").get(review=review, pk=stage_id)
    stage.review = review  # keep the review already fetched (with user_role)
    return stage


def previous_stage(stage: ScreeningStage) -> ScreeningStage | None:
    return (
        ScreeningStage.objects.filter(review_id=stage.review_id, order__lt=stage.order)
        .order_by("-order")
        .first()
    )


def stage_records(stage: ScreeningStage) -> QuerySet[Record]:
    """The records a stage screens: unique (non-duplicate) records; at a full-text stage,
    the reports sought (included at title/abstract) that were not "not retrieved"; at a
    later stage of another kind, the records that passed the stage before it."""
    qs = Record.objects.filter(review_id=stage.review_id, duplicate_of__isnull=True)
    q = _stage_records_q(stage, _screened_after(stage))
    return qs if q is None else qs.filter(q)


def _screened_after(stage: ScreeningStage) -> ScreeningStage | None:
    """The stage whose passing records this stage screens, if any."""
    if stage.kind != ScreeningStage.Kind.FULL_TEXT and stage.order > min_stage_order(stage):
        return previous_stage(stage)
    return None


def _stage_records_q(stage: ScreeningStage, prev: ScreeningStage | None) -> Q | None:
    """What `stage_records` keeps of the review's unique records (None: all of them), given
    the stage before it: a condition on the record, so one query can count every stage."""
    if stage.kind == ScreeningStage.Kind.FULL_TEXT:
        return Q(
            fulltext_status__in=[Record.FullTextStatus.SOUGHT, Record.FullTextStatus.RETRIEVED]
        )
    if prev is None:
        return None
    from studies.screening_rules import passing_votes

    passing = passing_votes(stage.review.maybe_counts_as)
    res = ScreeningResolution.objects.filter(stage=prev, record=OuterRef("pk"))
    votes = ScreeningDecision.objects.filter(stage=prev, record=OuterRef("pk"))
    return Q(Exists(res.filter(decision__in=passing))) | (
        ~Exists(res)
        & Exists(votes.filter(decision__in=passing))
        & ~Exists(votes.exclude(decision__in=passing))
    )


def reports_sought(*, review: Review, status: str = "") -> QuerySet[Record]:
    """The review's unique records whose full text is sought, retrieved or not retrieved
    (optionally one of those), in import order: the full-text page's list. It walks the
    partial index record_fulltext_queue, which holds only these records."""
    qs = Record.objects.filter(review=review, duplicate_of__isnull=True).exclude(
        fulltext_status=Record.FullTextStatus.NOT_SOUGHT
    )
    if status and status in Record.FullTextStatus.values:
        qs = qs.filter(fulltext_status=status)
    return qs.order_by("position", "id")


def min_stage_order(stage: ScreeningStage) -> int:
    cached = getattr(stage, "_min_order", None)
    if cached is None:
        cached = (
            ScreeningStage.objects.filter(review_id=stage.review_id)
            .order_by("order")
            .values_list("order", flat=True)
            .first()
        )
        stage._min_order = cached
    return cached


def _filtered(stage: ScreeningStage, user, filter_: str) -> QuerySet[Record]:
    review = stage.review
    qs = stage_records(stage)
    mine = ScreeningDecision.objects.filter(stage=stage, record=OuterRef("pk"), reviewer=user)
    if filter_ == "mine":
        return qs.filter(Exists(mine))
    if filter_ == "maybe":
        return qs.filter(Exists(mine.filter(decision=Decision.MAYBE)))
    if filter_ == "conflicts":
        # Probed per record (index record, stage, reviewer), so the queue stops at the first
        # conflict instead of grouping every vote of the stage first.
        return qs.filter(conflict_q(stage))
    # Undecided: I have not voted, and the record still needs a vote (nobody has voted, or
    # it is dual-screened and has fewer than two votes).
    qs = _with_dual(qs, review).alias(_votes=_votes_count(stage)).filter(~Exists(mine))
    if dual_threshold(review.dual_fraction) is None:
        return qs.filter(_votes__lt=2)
    return qs.filter(Q(_votes=0) | (dual_q(review) & Q(_votes__lt=2)))


def next_record(
    *, stage: ScreeningStage, user, after: Record | None = None, order: str = "position",
    filter_: str = "undecided",
) -> Record | None:  # fmt: skip
    """The next record of the queue after `after` (or the first), one indexed query."""
    qs = _filtered(stage, user, filter_)
    if order == "random":
        # Stored key (index review, duplicate_of, screen_key, id): a range scan from the
        # cursor, so each "next" reads a handful of index entries instead of hashing and
        # sorting the whole queue.
        qs = qs.order_by("screen_key", "id")
        if after is not None:
            k = after.screen_key
            if k is None:  # not yet keyed (see record_keys_assign): its hash is its key
                from studies.screening_rules import screen_hash

                k = screen_hash(after.pk, order_seed(stage.review.dual_seed))
            qs = qs.filter(screen_key__gte=k).exclude(screen_key=k, id__lte=after.pk)
        return qs.first()
    if order == "priority":
        # Walk the scores by rank (index stage, rank) and probe each record, so the query
        # stops at the first eligible one; then the unscored records in import order.
        after_rank = None
        if after is not None:
            after_rank = (
                RecordScore.objects.filter(stage=stage, record=after)
                .values_list("rank", flat=True)
                .first()
            )
        if after is None or after_rank is not None:
            scores = RecordScore.objects.filter(stage=stage).filter(
                Exists(qs.filter(pk=OuterRef("record_id")))
            )
            if after_rank is not None:
                # A range (>=) the index can seek to, then drop the ties already passed;
                # an OR of the two conditions would scan every score.
                scores = scores.filter(rank__gte=after_rank).exclude(
                    rank=after_rank, record_id__lte=after.pk
                )
            found_id = (
                scores.order_by("rank", "record_id").values_list("record_id", flat=True).first()
            )
            if found_id is not None:
                return Record.objects.get(pk=found_id)
            after = None
        qs = qs.exclude(Exists(RecordScore.objects.filter(stage=stage, record=OuterRef("pk"))))
    qs = qs.order_by("position", "id")
    if after is not None:
        qs = qs.filter(position__gte=after.position).exclude(
            position=after.position, id__lte=after.pk
        )
    return qs.first()


def record_for_stage(*, stage: ScreeningStage, record_id: int) -> Record | None:
    return stage_records(stage).filter(pk=record_id).first()


def decisions_visible_to(
    user, stage: ScreeningStage | None = None, *, review: Review | None = None
) -> QuerySet[ScreeningDecision]:
    """The votes a user may see at a stage: their own always; another reviewer's only when
    blinding is off or the record has all the votes it needs (both reviewers decided).
    Pass `review=` instead of a stage for the votes of every stage (API, exports)."""
    if stage is not None:
        review = stage.review
        qs = ScreeningDecision.objects.filter(stage=stage)
        votes = _votes_count(stage, "record_id")
    else:
        qs = ScreeningDecision.objects.filter(stage__review=review)
        votes = _votes_count(OuterRef("stage_id"), "record_id")  # votes at the vote's stage
    if not review.blind_screening:
        return qs
    qs = _with_dual(qs, review, "record_id").alias(_votes=votes)
    if dual_threshold(review.dual_fraction) is None:
        complete = Q(_votes__gte=2)
    else:
        complete = Q(_votes__gte=2) | (~dual_q(review) & Q(_votes__gte=1))
    return qs.filter(Q(reviewer=user) | complete)


def mapped_decision_expr(review: Review):
    from django.db.models import Case, CharField, When

    mode = review.maybe_counts_as
    if mode == "separate":
        return F("decision")
    return Case(
        When(decision=Decision.MAYBE, then=Value(mode)),
        default=F("decision"),
        output_field=CharField(),
    )


def conflict_record_ids(stage: ScreeningStage, *, unresolved: bool = False) -> QuerySet:
    """Records whose votes disagree (with "maybe" mapped as the review counts it). A conflict
    needs two votes, so it is never shown before both reviewers decided."""
    qs = (
        ScreeningDecision.objects.filter(stage=stage)
        .order_by()
        .values("record")
        .annotate(n_kinds=Count(mapped_decision_expr(stage.review), distinct=True))
        .filter(n_kinds__gt=1)
    )
    if unresolved:
        qs = qs.exclude(
            Exists(ScreeningResolution.objects.filter(stage=stage, record=OuterRef("record")))
        )
    return qs.values("record")


def conflict_q(stage: ScreeningStage, ref: str = "pk", *, stage_ref: str | None = None) -> Q:
    """Votes on the record disagree, with "maybe" mapped as the review counts it; as EXISTS
    probes per record, so a walk in import order stops at the first page of conflicts.
    With `stage_ref`, the votes are those at the stage the outer row names (rows of several
    stages of `stage`'s review at once)."""
    at = OuterRef(stage_ref) if stage_ref else stage
    votes = ScreeningDecision.objects.filter(stage=at, record=OuterRef(ref))

    def has(*decisions: str) -> Exists:
        return Exists(votes.filter(decision__in=decisions))

    mode = stage.review.maybe_counts_as
    inc, exc, may = Decision.INCLUDE, Decision.EXCLUDE, Decision.MAYBE
    if mode == "include":
        return Q(has(inc, may)) & Q(has(exc))
    if mode == "exclude":
        return Q(has(inc)) & Q(has(exc, may))
    return (Q(has(inc)) & Q(has(exc, may))) | (Q(has(exc)) & Q(has(may)))


def conflict_list(
    *, stage: ScreeningStage, unresolved: bool = False, after: tuple[int, int] | None = None
) -> QuerySet[Record]:
    """Records in conflict in import order, from the keyset cursor `after` = (position, id);
    walks the index (review, duplicate_of, position), so a page costs the records it reads,
    not the whole stage."""
    resolved = Exists(ScreeningResolution.objects.filter(stage=stage, record=OuterRef("pk")))
    qs = Record.objects.filter(review_id=stage.review_id, duplicate_of__isnull=True).filter(
        conflict_q(stage)
    )
    if unresolved:
        qs = qs.filter(~resolved)
    if after is not None:
        position, pk = after
        qs = qs.filter(position__gte=position).exclude(position=position, id__lte=pk)
    return (
        qs.annotate(resolved=resolved)
        .only("id", "title", "year", "authors", "position")
        .order_by("position", "id")
    )


def last_decided(*, stage: ScreeningStage, user) -> Record | None:
    """The record of this reviewer's latest vote (index stage, reviewer, id): where a new
    session resumes instead of scanning every record already decided."""
    rid = (
        ScreeningDecision.objects.filter(stage=stage, reviewer=user)
        .order_by("-id")
        .values_list("record_id", flat=True)
        .first()
    )
    return Record.objects.filter(pk=rid).only("id", "position").first() if rid else None


STAGE_COUNTS_TTL = 20  # seconds: stage-wide counts scan the whole stage; mine stays live


def _progress_key(stage: ScreeningStage) -> str:
    review = stage.review
    return f"screening-progress:{stage.pk}:{review.dual_fraction}:{review.maybe_counts_as}"


def open_conflicts_cached(*, stage: ScreeningStage) -> int | None:
    """The open-conflict count if the progress bars counted it lately, else None (counting
    means grouping every vote of the stage: not worth it for a page heading)."""
    from django.core.cache import cache

    cached = cache.get(_progress_key(stage))
    return cached[2] if cached else None


def progress(*, stage: ScreeningStage, user) -> dict:
    """Counts for the progress bars of one stage (see `progress_by_stage`)."""
    return progress_by_stage(stages=[stage], user=user, all_stages=False)[stage.pk]


def progress_by_stage(
    *, stages: list[ScreeningStage], user, all_stages: bool = True
) -> dict[int, dict]:
    """Counts for the progress bars, by stage id: mine (live), and each stage as a whole
    (cached briefly, since counting 200k votes on every keystroke would slow every reviewer
    down). A constant number of queries whatever the number of stages. `all_stages`: the
    list holds every stage of the review in order, so each one's previous stage is in it."""
    from django.core.cache import cache

    if not stages:
        return {}
    ids = [s.pk for s in stages]
    mine = dict(
        ScreeningDecision.objects.filter(stage_id__in=ids, reviewer=user)
        .order_by()
        .values_list("stage_id")
        .annotate(n=Count("id"))
    )
    keys = {s.pk: _progress_key(s) for s in stages}
    cached = cache.get_many(list(keys.values()))
    stale = [s for s in stages if keys[s.pk] not in cached]
    if stale:
        if all_stages:
            ordered = sorted(stages, key=lambda s: s.order)
            after = {s.pk: ordered[i - 1] if i else None for i, s in enumerate(ordered)}
        else:
            after = {s.pk: _screened_after(s) for s in stale}
        fresh = {keys[pk]: v for pk, v in _stage_counts(stale, after).items()}
        cache.set_many(fresh, STAGE_COUNTS_TTL)
        cached.update(fresh)
    out = {}
    for stage in stages:
        total, decided, n_conflicts = cached[keys[stage.pk]]
        n_mine = mine.get(stage.pk, 0)
        out[stage.pk] = {
            "total": total,
            "mine": n_mine,
            "decided": decided,
            "conflicts": n_conflicts,
            "mine_pct": round(100 * n_mine / total) if total else 0,
            "decided_pct": round(100 * decided / total) if total else 0,
        }
    return out


def _stage_counts(
    stages: list[ScreeningStage], after: dict[int, ScreeningStage | None]
) -> dict[int, tuple[int, int, int]]:
    """(records at the stage, records with a vote, open conflicts) of each stage, in three
    queries for any number of stages; `after`: the stage each one screens the passing
    records of (see `_screened_after`)."""
    from django.db import connection

    review = stages[0].review
    ids = [s.pk for s in stages]
    # Records: one pass over the review's unique records, counted once per stage.
    totals = Record.objects.filter(review_id=review.pk, duplicate_of__isnull=True).aggregate(
        **{f"s{s.pk}": Count("id", filter=_stage_records_q(s, after.get(s.pk))) for s in stages}
    )
    # Votes: one pass over the stages' votes grouped by (stage, record) gives both the
    # records decided and those in conflict, then grouped again by stage. The ORM cannot
    # group a grouped queryset again, so the outer grouping is written around its SQL.
    per_record = (
        ScreeningDecision.objects.filter(stage_id__in=ids)
        .order_by()
        .values("stage_id", "record_id")
        .annotate(kinds=Count(mapped_decision_expr(review), distinct=True))
    )
    inner, params = per_record.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT stage_id, COUNT(*), SUM(CASE WHEN kinds > 1 THEN 1 ELSE 0 END) "
            f"FROM ({inner}) per_record GROUP BY stage_id",
            params,
        )
        votes = {sid: (decided, conflicts or 0) for sid, decided, conflicts in cursor.fetchall()}
    # The (few) resolved conflicts are then subtracted.
    resolved = dict(
        ScreeningResolution.objects.filter(stage_id__in=ids)
        .filter(conflict_q(stages[0], "record_id", stage_ref="stage_id"))
        .order_by()
        .values_list("stage_id")
        .annotate(n=Count("id"))
    )
    out = {}
    for s in stages:
        decided, conflicts = votes.get(s.pk, (0, 0))
        out[s.pk] = (totals[f"s{s.pk}"], decided, conflicts - resolved.get(s.pk, 0))
    return out


def agreement_counts(*, stage: ScreeningStage) -> dict[tuple[int, int], dict[tuple[str, str], int]]:
    """Cross-tables of the independent votes of every pair of reviewers on the records both
    voted on: {(reviewer a, reviewer b): {(a's vote, b's vote): records}}, a < b (see
    `agreement_counts_by_stage`)."""
    return agreement_counts_by_stage(stages=[stage])[stage.pk]


def agreement_counts_by_stage(
    *, stages: list[ScreeningStage]
) -> dict[int, dict[tuple[int, int], dict[tuple[str, str], int]]]:
    """The cross-tables of `agreement_counts` of each stage, by stage id.

    One grouped self-join over the stages' votes, so nothing is loaded vote by vote; each
    stage's result is cached under its vote count and latest change (index stage,
    updated_at), which every insert, change and withdrawal of a vote moves, so a cached
    table is always exact and a view while nobody votes costs one cheap query, whatever the
    number of stages."""
    from django.core.cache import cache
    from django.db import connection
    from django.db.models import Max

    if not stages:
        return {}
    ids = [s.pk for s in stages]
    sigs = {
        row["stage_id"]: row
        for row in ScreeningDecision.objects.filter(stage_id__in=ids)
        .order_by()
        .values("stage_id")
        .annotate(n=Count("id"), last=Max("updated_at"))
    }

    def key(pk: int) -> str:
        sig = sigs.get(pk, {"n": 0, "last": None})
        last = sig["last"].isoformat() if sig["last"] else ""
        return f"screening-agreement:{pk}:{sig['n']}:{last}"

    keys = {pk: key(pk) for pk in ids}
    found = cache.get_many(list(keys.values()))
    out = {pk: found[keys[pk]] for pk in ids if keys[pk] in found}
    missing = [pk for pk in ids if pk not in out]
    if not missing:
        return out
    table = connection.ops.quote_name(ScreeningDecision._meta.db_table)
    marks = ", ".join(["%s"] * len(missing))
    sql = (
        f"SELECT d1.stage_id, d1.reviewer_id, d2.reviewer_id, d1.decision, d2.decision, "
        f"COUNT(*) FROM {table} d1 JOIN {table} d2 ON d2.record_id = d1.record_id "
        f"AND d2.stage_id = d1.stage_id AND d2.reviewer_id > d1.reviewer_id "
        f"WHERE d1.stage_id IN ({marks}) "
        f"GROUP BY d1.stage_id, d1.reviewer_id, d2.reviewer_id, d1.decision, d2.decision"
    )
    fresh: dict[int, dict] = {pk: {} for pk in missing}
    with connection.cursor() as cursor:
        cursor.execute(sql, missing)
        for sid, ra, rb, da, db, n in cursor.fetchall():
            fresh[sid].setdefault((ra, rb), {})[(da, db)] = n
    cache.set_many({keys[pk]: tables for pk, tables in fresh.items()}, 24 * 3600)
    return out | fresh


def screening_counts(*, review: Review) -> dict:
    """Screening figures for the PRISMA 2020 flow diagram, from the stage outcomes (after
    resolution): records screened and excluded, reports sought / not retrieved / assessed,
    reports excluded with reasons, and studies included."""
    from studies.models import ExclusionReason, Study
    from studies.screening_rules import is_dual, outcome

    stages = list(ScreeningStage.objects.filter(review=review).order_by("order"))
    # Every stage's votes, resolutions and reasons in one query each (not three per stage).
    votes_at: dict[int, dict[int, list[str]]] = {s.pk: {} for s in stages}
    reasons_at: dict[int, dict[int, list[int | None]]] = {s.pk: {} for s in stages}
    for sid, rid, dec, reason in (
        ScreeningDecision.objects.filter(stage__review=review)
        .order_by("id")
        .values_list("stage_id", "record_id", "decision", "reason_id")
    ):
        votes_at[sid].setdefault(rid, []).append(dec)
        reasons_at[sid].setdefault(rid, []).append(reason)
    res_at: dict[int, dict[int, tuple]] = {s.pk: {} for s in stages}
    for sid, rid, dec, reason in ScreeningResolution.objects.filter(
        stage__review=review
    ).values_list("stage_id", "record_id", "decision", "reason_id"):
        res_at[sid][rid] = (dec, reason)
    labels_at: dict[int, dict[int, str]] = {s.pk: {} for s in stages}
    for sid, pk, label in ExclusionReason.objects.filter(stage__review=review).values_list(
        "stage_id", "id", "label"
    ):
        labels_at[sid][pk] = label
    result: dict = {"stages": []}
    for stage in stages:
        votes, reasons, res = votes_at[stage.pk], reasons_at[stage.pk], res_at[stage.pk]
        labels = labels_at[stage.pk]
        counts = {"include": 0, "exclude": 0, "conflict": 0, "pending": 0}
        by_reason: dict[int | None, int] = {}
        for rid in set(votes) | set(res):
            r = res.get(rid)
            o = outcome(
                votes.get(rid, []), r[0] if r else None,
                dual=is_dual(rid, review.dual_seed, review.dual_fraction),
                maybe=review.maybe_counts_as,
            )  # fmt: skip
            counts[o] += 1
            if o == "exclude":
                given = [x for x in ([r[1]] if r else reasons.get(rid, [])) if x]
                key = given[0] if given else None
                by_reason[key] = by_reason.get(key, 0) + 1
        result["stages"].append(
            {
                "stage": stage.name, "kind": stage.kind, "screened": sum(counts.values()),
                **counts,
                "excluded_by_reason": {labels.get(k, "No reason given"): n
                                       for k, n in sorted(by_reason.items(), key=lambda x: -x[1])},
            }
        )  # fmt: skip
    base = Record.objects.filter(review=review, duplicate_of__isnull=True)
    status = dict(
        base.exclude(fulltext_status="")
        .order_by()
        .values_list("fulltext_status")
        .annotate(n=Count("id"))
    )
    sought = sum(status.values())
    result["reports_sought"] = sought
    result["reports_not_retrieved"] = status.get(Record.FullTextStatus.NOT_RETRIEVED, 0)
    result["reports_assessed"] = sought - result["reports_not_retrieved"]
    result["studies_included"] = (
        Study.objects.filter(review=review, records__isnull=False).distinct().count()
    )
    return result
