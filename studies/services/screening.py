"""Writes for screening: stages and criteria, votes, undo, conflict resolutions, full texts,
reports → studies. Keyword-only, atomic, permission-checked, audited (old → new)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from studies import fulltext
from studies.models import (
    Decision,
    Document,
    ExclusionReason,
    Record,
    ScreeningDecision,
    ScreeningResolution,
    ScreeningStage,
    Study,
)
from studies.screening_rules import is_dual, outcome
from synthesis.audit import event_record
from synthesis.concurrency import EditConflict, edit_lock, edit_save, last_saved
from synthesis.models import Review, Role
from synthesis.permissions import Action, check


def _vote_dict(d: ScreeningDecision | ScreeningResolution | None) -> dict | None:
    if d is None:
        return None
    return {"decision": d.decision, "reason": d.reason_id, "note": d.note}


# ---------------------------------------------------------------- stages and criteria


@transaction.atomic
def stage_create(
    *, user, review: Review, name: str, kind: str = ScreeningStage.Kind.TITLE_ABSTRACT,
    order: int | None = None, inclusion_criteria: str = "", exclusion_criteria: str = "",
    reason_required: bool | None = None, reasons: list[str] | None = None,
) -> ScreeningStage:  # fmt: skip
    check(user, review, Action.MANAGE)
    if kind not in ScreeningStage.Kind.values:
        raise ValidationError({"kind": f"Unknown stage kind: {kind}"})
    if not name.strip():
        raise ValidationError({"name": "A stage needs a name."})
    if order is None:
        order = (
            ScreeningStage.objects.filter(review=review).aggregate(m=Max("order"))["m"] or 0
        ) + 1
    elif ScreeningStage.objects.filter(review=review, order=order).exists():
        raise ValidationError({"order": f"There is already a stage number {order}."})
    if reason_required is None:
        reason_required = kind == ScreeningStage.Kind.FULL_TEXT
    stage = ScreeningStage.objects.create(
        review=review, name=name.strip(), kind=kind, order=order,
        inclusion_criteria=inclusion_criteria, exclusion_criteria=exclusion_criteria,
        reason_required=reason_required,
    )  # fmt: skip
    for i, label in enumerate(_clean_labels(reasons or []), start=1):
        ExclusionReason.objects.create(stage=stage, label=label, order=i)
    event_record(review=review, actor=user, verb="stage.create", target=stage, summary=name)
    return stage


def _clean_labels(labels: list[str]) -> list[str]:
    out: list[str] = []
    for label in labels:
        label = label.strip()
        if label and label.lower() not in {x.lower() for x in out}:
            out.append(label[:200])
    return out


@transaction.atomic
def stage_update(
    *, user, stage: ScreeningStage, name: str | None = None,
    inclusion_criteria: str | None = None, exclusion_criteria: str | None = None,
    reason_required: bool | None = None, reasons: list[str] | None = None,
    expected_version: int | None = None,
) -> ScreeningStage:  # fmt: skip
    """Change criteria and the list of exclusion reasons (in the order given). A reason
    already given in a vote cannot be removed: the vote would lose its reason.
    `expected_version`: the ScreeningStage.version the editor opened (a change of its
    reasons counts too); if it was saved since, EditConflict and nothing changes."""
    check(user, stage.review_id, Action.MANAGE)
    edit_lock(
        stage, expected_version=expected_version, verbs=("stage.update",),
        name=lambda s: f"the {s.name} stage",
    )  # fmt: skip
    old = {
        "name": stage.name, "inclusion_criteria": stage.inclusion_criteria,
        "exclusion_criteria": stage.exclusion_criteria, "reason_required": stage.reason_required,
        "reasons": list(stage.reasons.values_list("label", flat=True)),
    }  # fmt: skip
    given = {
        "name": name, "inclusion_criteria": inclusion_criteria,
        "exclusion_criteria": exclusion_criteria, "reason_required": reason_required,
    }  # fmt: skip
    given = {k: v for k, v in given.items() if v is not None}
    if "name" in given:
        if not name.strip():
            raise ValidationError({"name": "A stage needs a name."})
        given["name"] = name.strip()
    for k, v in given.items():
        setattr(stage, k, v)
    edit_save(stage, given)
    if reasons is not None:
        wanted = _clean_labels(reasons)
        existing = {r.label.lower(): r for r in stage.reasons.all()}
        keep = {w.lower() for w in wanted}
        for key, reason in existing.items():
            if key in keep:
                continue
            used = (
                ScreeningDecision.objects.filter(reason=reason).count()
                + ScreeningResolution.objects.filter(reason=reason).count()
            )
            if used:
                raise ValidationError(
                    {"reasons": f"“{reason.label}” is the reason of {used} vote(s); keep it."}
                )
            reason.delete()
        # Two passes so that reordering never collides on the (stage, label) constraint.
        for i, label in enumerate(wanted, start=1):
            reason = existing.get(label.lower())
            if reason is None:
                ExclusionReason.objects.create(stage=stage, label=label, order=i)
            elif reason.order != i or reason.label != label:
                reason.order, reason.label = i, label
                reason.save(update_fields=["order", "label"])
    new = {
        "name": stage.name, "inclusion_criteria": stage.inclusion_criteria,
        "exclusion_criteria": stage.exclusion_criteria, "reason_required": stage.reason_required,
        "reasons": list(stage.reasons.values_list("label", flat=True)),
    }  # fmt: skip
    event_record(
        review=stage.review_id, actor=user, verb="stage.update", target=stage, summary=stage.name,
        data={"old": old, "new": new},
    )  # fmt: skip
    return stage


@transaction.atomic
def stages_create_default(*, user, review: Review) -> list[ScreeningStage]:
    """Title/abstract then full text, the two stages of the seed review."""
    check(user, review, Action.MANAGE)
    if ScreeningStage.objects.filter(review=review).exists():
        return list(ScreeningStage.objects.filter(review=review))
    return [
        stage_create(
            user=user, review=review, name="Title and abstract", order=1,
            kind=ScreeningStage.Kind.TITLE_ABSTRACT, reason_required=False,
            reasons=["Not about the topic", "Wrong population or setting", "Not a study or theory"],
        ),
        stage_create(
            user=user, review=review, name="Full text", order=2,
            kind=ScreeningStage.Kind.FULL_TEXT, reason_required=True,
            reasons=["Not relevant to the programme theory", "Wrong setting",
                     "No data on how or why", "Duplicate report"],
        ),
    ]  # fmt: skip


# ---------------------------------------------------------------- random order keys


def record_keys_assign(*, review_id: int, dual_seed: int, only_missing: bool = True) -> int:
    """Store each record's place in the random screening order (one UPDATE, computed in
    SQL). Called after records are created (the key needs the id) and, for every record,
    when the review's seed changes. Bookkeeping, not a user action: no permission check or
    audit event of its own; its callers have both."""
    from studies.screening_rules import order_seed
    from studies.selectors_screening import hash_expr

    qs = Record.objects.filter(review_id=review_id)
    if only_missing:
        # Unique records only (the ones screened): the lookup then runs on the partial
        # index record_random_queue instead of reading the whole review.
        qs = qs.filter(screen_key__isnull=True, duplicate_of__isnull=True)
    return qs.update(screen_key=hash_expr("id", order_seed(dual_seed)))


# ---------------------------------------------------------------- votes


def _validate_vote(stage: ScreeningStage, record: Record, decision: str, reason) -> None:
    if record.review_id != stage.review_id:
        raise ValidationError("That record is not in this review.")
    if record.duplicate_of_id is not None:
        raise ValidationError("Duplicates are not screened; screen the record they merge into.")
    if decision not in Decision.values:
        raise ValidationError({"decision": f"Unknown decision: {decision}"})
    if reason is not None and reason.stage_id != stage.pk:
        raise ValidationError({"reason": "That reason belongs to another stage."})
    if decision == Decision.EXCLUDE and stage.reason_required and reason is None:
        raise ValidationError({"reason": "An exclusion at this stage needs a reason (keys 1–9)."})


@transaction.atomic
def decision_record(
    *, user, stage: ScreeningStage, record: Record, decision: str,
    reason: ExclusionReason | None = None, note: str = "",
) -> ScreeningDecision:  # fmt: skip
    """Record (or change) this reviewer's independent vote. Idempotent: the same vote twice
    changes nothing; two submissions racing each other end in one row, never two and never
    none, because the unique (record, stage, reviewer) constraint arbitrates and the loser
    retries as an update."""
    check(user, stage.review_id, Action.SCREEN)
    if decision != Decision.EXCLUDE:
        reason = None
    _validate_vote(stage, record, decision, reason)
    note = (note or "").strip()
    last_exc: Exception | None = None
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return _decision_upsert(user, stage, record, decision, reason, note)
        except IntegrityError as exc:  # a concurrent insert won: update it instead
            last_exc = exc
    raise last_exc  # pragma: no cover - three lost races in a row


def _decision_upsert(user, stage, record, decision, reason, note) -> ScreeningDecision:
    existing = (
        ScreeningDecision.objects.select_for_update()
        .filter(record=record, stage=stage, reviewer=user)
        .first()
    )
    if existing is not None:
        old = _vote_dict(existing)
        if old == {"decision": decision, "reason": getattr(reason, "pk", None), "note": note}:
            return existing
        existing.decision, existing.reason, existing.note = decision, reason, note
        existing.save(update_fields=["decision", "reason", "note", "updated_at"])
        verb, vote = "screening.change", existing
    else:
        old = None
        vote = ScreeningDecision.objects.create(
            record=record, stage=stage, reviewer=user, decision=decision, reason=reason, note=note
        )
        verb = "screening.decide"
    event_record(
        review=stage.review_id, actor=user, verb=verb, target=vote,
        summary=f"{decision} record {record.pk} at {stage.name}",
        data={"record": record.pk, "stage": stage.pk, "old": old, "new": _vote_dict(vote)},
    )  # fmt: skip
    _sync_sought(stage, record)
    return vote


@transaction.atomic
def decision_undo(*, user, stage: ScreeningStage, record: Record) -> bool:
    """Withdraw this reviewer's vote on a record (audited with the vote withdrawn)."""
    check(user, stage.review_id, Action.SCREEN)
    vote = (
        ScreeningDecision.objects.select_for_update()
        .filter(record=record, stage=stage, reviewer=user)
        .first()
    )
    if vote is None:
        return False
    old = _vote_dict(vote)
    vote_id = vote.pk
    vote.delete()
    event_record(
        review=stage.review_id, actor=user, verb="screening.undo",
        summary=f"withdrew {old['decision']} on record {record.pk} at {stage.name}",
        data={"record": record.pk, "stage": stage.pk, "decision_id": vote_id, "old": old,
              "new": None},
    )  # fmt: skip
    _sync_sought(stage, record)
    return True


def resolution_state(resolution: ScreeningResolution | None) -> str:
    """A resolution as a page shows it ("" when there is none), sent back with a new one
    (see resolution_record)."""
    if resolution is None:
        return ""
    return f"{resolution.pk}@{resolution.updated_at.isoformat()}"


@transaction.atomic
def resolution_record(
    *, user, stage: ScreeningStage, record: Record, decision: str,
    reason: ExclusionReason | None = None, note: str = "", expected: str | None = None,
) -> ScreeningResolution:  # fmt: skip
    """Reconcile a conflict: by the owner, or by a third reviewer who did not vote on the
    record. The independent votes stay as they were; the resolution is a row of its own.

    `expected`: resolution_state as the resolver's page showed it; if someone has resolved
    the conflict (or changed its resolution) since, EditConflict and nothing changes, so
    that a resolution is never replaced unseen."""
    role = check(user, stage.review_id, Action.SCREEN)
    voters = set(
        ScreeningDecision.objects.filter(stage=stage, record=record).values_list(
            "reviewer_id", flat=True
        )
    )
    if role != Role.OWNER and user.pk in voters:
        raise PermissionDenied("Conflicts are resolved by the owner or a third reviewer.")
    if len(voters) < 2:
        raise ValidationError("Only a record with two votes can be in conflict.")
    if decision != Decision.EXCLUDE:
        reason = None
    _validate_vote(stage, record, decision, reason)
    note = (note or "").strip()
    last_exc: Exception | None = None
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return _resolution_upsert(user, stage, record, decision, reason, note, expected)
        except IntegrityError as exc:  # two resolvers at once: the loser updates the winner's
            last_exc = exc
    raise last_exc  # pragma: no cover - three lost races in a row


def _resolution_upsert(user, stage, record, decision, reason, note, expected):
    res = (
        ScreeningResolution.objects.select_for_update(of=("self",))
        .filter(record=record, stage=stage)
        .select_related("resolved_by")
        .first()
    )
    if expected is not None and expected != resolution_state(res):
        who = res.resolved_by if res is not None and res.resolved_by else None
        who = (who.get_full_name() or who.username) if who else "Someone"
        at = timezone.localtime(res.updated_at).strftime("%d %b %Y %H:%M") if res else ""
        raise EditConflict(
            f"{who} resolved this conflict as {res.get_decision_display() if res else '—'}"
            f"{' at ' + at if at else ''}, after you opened it. Nothing was saved: see "
            "their resolution, then save yours again to replace it.",
            current=res or record,
        )
    old = _vote_dict(res)
    if res is None:
        res = ScreeningResolution(record=record, stage=stage)
    res.decision, res.reason, res.note, res.resolved_by = decision, reason, note, user
    res.save()
    event_record(
        review=stage.review_id, actor=user, verb="screening.resolve", target=res,
        summary=f"{decision} record {record.pk} at {stage.name}",
        data={"record": record.pk, "stage": stage.pk, "old": old, "new": _vote_dict(res)},
    )  # fmt: skip
    _sync_sought(stage, record)
    return res


# ---------------------------------------------------------------- reports sought


def _fulltext_stage_after(stage: ScreeningStage) -> bool:
    if stage.kind == ScreeningStage.Kind.FULL_TEXT:
        return False
    nxt = (
        ScreeningStage.objects.filter(review_id=stage.review_id, order__gt=stage.order)
        .order_by("order")
        .values_list("kind", flat=True)
        .first()
    )
    return nxt == ScreeningStage.Kind.FULL_TEXT


def record_outcome(stage: ScreeningStage, record: Record) -> str:
    return record_outcomes(stage, [record])[record.pk]


def record_outcomes(stage: ScreeningStage, records: list[Record]) -> dict[int, str]:
    """record_outcome for a page of records in two queries, not two per record."""
    review = stage.review
    ids = [r.pk for r in records]
    votes: dict[int, list[str]] = {pk: [] for pk in ids}
    for rid, dec in ScreeningDecision.objects.filter(stage=stage, record_id__in=ids).values_list(
        "record_id", "decision"
    ):
        votes[rid].append(dec)
    res = dict(
        ScreeningResolution.objects.filter(stage=stage, record_id__in=ids).values_list(
            "record_id", "decision"
        )
    )
    return {
        pk: outcome(votes[pk], res.get(pk), maybe=review.maybe_counts_as,
                    dual=is_dual(pk, review.dual_seed, review.dual_fraction))
        for pk in ids
    }  # fmt: skip


def _sync_sought(stage: ScreeningStage, record: Record) -> None:
    """A record included at the stage before full text becomes a report sought; one that
    stops being included goes back, unless its full text was already handled."""
    if not _fulltext_stage_after(stage):
        return
    result = record_outcome(stage, record)
    status = Record.objects.filter(pk=record.pk).values_list("fulltext_status", flat=True).first()
    if result == "include" and status == Record.FullTextStatus.NOT_SOUGHT:
        Record.objects.filter(pk=record.pk).update(fulltext_status=Record.FullTextStatus.SOUGHT)
    elif result != "include" and status == Record.FullTextStatus.SOUGHT:
        Record.objects.filter(pk=record.pk).update(fulltext_status=Record.FullTextStatus.NOT_SOUGHT)


@transaction.atomic
def reports_sought_sync(*, user, stage: ScreeningStage) -> int:
    """Bring every record's "sought" flag in line with the title/abstract outcomes (after
    imports, merges or a change of how "maybe" counts). Returns how many changed."""
    check(user, stage.review_id, Action.VIEW)
    review = stage.review
    votes: dict[int, list[str]] = {}
    for rid, dec in ScreeningDecision.objects.filter(stage=stage).values_list(
        "record_id", "decision"
    ):
        votes.setdefault(rid, []).append(dec)
    res = dict(ScreeningResolution.objects.filter(stage=stage).values_list("record_id", "decision"))
    include = {
        rid
        for rid in set(votes) | set(res)
        if outcome(
            votes.get(rid, []), res.get(rid),
            dual=is_dual(rid, review.dual_seed, review.dual_fraction),
            maybe=review.maybe_counts_as,
        ) == "include"
    }  # fmt: skip
    base = Record.objects.filter(review_id=stage.review_id, duplicate_of__isnull=True)
    sought = set(
        base.filter(fulltext_status=Record.FullTextStatus.SOUGHT).values_list("id", flat=True)
    )
    not_sought = set(
        base.filter(fulltext_status=Record.FullTextStatus.NOT_SOUGHT, id__in=include).values_list(
            "id", flat=True
        )
    )
    to_drop = sought - include
    Record.objects.filter(id__in=not_sought).update(fulltext_status=Record.FullTextStatus.SOUGHT)
    Record.objects.filter(id__in=to_drop).update(fulltext_status=Record.FullTextStatus.NOT_SOUGHT)
    return len(not_sought) + len(to_drop)


# ---------------------------------------------------------------- full texts


def _check_record(user, record: Record) -> None:
    check(user, record.review_id, Action.SCREEN)


@transaction.atomic
def fulltext_upload(*, user, record: Record, filename: str, data: bytes) -> Document:
    """Attach a full text to a report sought: text extracted with its page map."""
    _check_record(user, record)
    extracted = fulltext.extract(filename, data)  # raises ExtractionError, nothing written
    doc = Document(
        review_id=record.review_id, record=record, study_id=record.study_id,
        kind=Document.Kind.FULL_TEXT, title=(record.title or filename)[:500],
        content_type=extracted.content_type, text=extracted.text, page_map=extracted.page_map,
        uploaded_by=user,
    )  # fmt: skip
    doc.file.save(filename, ContentFile(data), save=False)
    doc.save()
    old = record.fulltext_status
    record.fulltext_status = Record.FullTextStatus.RETRIEVED
    record.save(update_fields=["fulltext_status"])
    event_record(
        review=record.review_id, actor=user, verb="fulltext.upload", target=doc,
        summary=f"{filename} → record {record.pk}",
        data={"record": record.pk, "old": old, "new": record.fulltext_status,
              "pages": len(extracted.page_map)},
    )  # fmt: skip
    return doc


@transaction.atomic
def fulltext_not_retrieved(*, user, record: Record, note: str = "") -> Record:
    _check_record(user, record)
    old = record.fulltext_status
    record.fulltext_status = Record.FullTextStatus.NOT_RETRIEVED
    record.save(update_fields=["fulltext_status"])
    event_record(
        review=record.review_id, actor=user, verb="fulltext.not_retrieved", target=record,
        summary=note[:300], data={"old": old, "new": record.fulltext_status, "note": note},
    )  # fmt: skip
    return record


@dataclass
class BatchResult:
    matched: list[tuple[str, Record]] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _name_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", (text or "").lower())


def fulltext_batch_upload(*, user, review: Review, files: list[tuple[str, bytes]]) -> BatchResult:
    """Match each file to a report sought by DOI (in the file name or printed in the text),
    else by file name (record id, or the title); upload the matches. A file that cannot be
    read or matched is reported and nothing is written for it."""
    check(user, review, Action.SCREEN)
    sought = list(
        Record.objects.filter(
            review=review, duplicate_of__isnull=True,
            fulltext_status__in=[Record.FullTextStatus.SOUGHT, Record.FullTextStatus.RETRIEVED,
                                 Record.FullTextStatus.NOT_RETRIEVED],
        ).only("id", "doi", "title", "review_id", "study_id", "fulltext_status")
    )  # fmt: skip
    by_doi = {fulltext.normalise_doi(r.doi): r for r in sought if r.doi}
    by_id = {str(r.pk): r for r in sought}
    by_title = {_name_key(r.title)[:60]: r for r in sought if r.title}
    result = BatchResult()
    for filename, data in files:
        try:
            extracted = fulltext.extract(filename, data)
        except fulltext.ExtractionError as exc:
            result.errors.append(str(exc))
            continue
        stem = re.sub(r"\.[a-z]+$", "", filename.lower())
        record = by_doi.get(fulltext.doi_from_filename(filename))
        if record is None:
            for doi in fulltext.dois_in_text(extracted.text):
                if doi in by_doi:
                    record = by_doi[doi]
                    break
        if record is None:
            m = re.fullmatch(r"(?:record[-_ ]?)?(\d+)", stem)
            record = by_id.get(m.group(1)) if m else None
        if record is None:
            record = by_title.get(_name_key(stem)[:60]) if len(_name_key(stem)) >= 12 else None
        if record is None:
            result.unmatched.append(filename)
            continue
        fulltext_upload(user=user, record=record, filename=filename, data=data)
        result.matched.append((filename, record))
    return result


# ---------------------------------------------------------------- included reports → studies


def _study_label(record: Record, taken: set[str]) -> str:
    first = record.first_author.split(",")[0].strip() if record.authors else ""
    if not first:
        first = (record.title or f"Record {record.pk}").split(":")[0][:60]
    base = f"{first} et al. {record.year}" if record.year else f"{first} et al."
    if len(record.authors) == 1:
        base = f"{first} {record.year}" if record.year else first
    label, n = base, 0
    while label in taken:
        n += 1
        label = f"{base}{chr(ord('a') + n)}" if n < 26 else f"{base} ({n})"
    taken.add(label)
    return label


@transaction.atomic
def studies_from_included(*, user, stage: ScreeningStage) -> list[Study]:
    """Every report included at full text that has no study yet becomes a study (its
    documents follow). Companion reports are then grouped with `report_group`."""
    check(user, stage.review_id, Action.EDIT_EVIDENCE)
    review = stage.review
    records = list(
        Record.objects.filter(
            review_id=stage.review_id, duplicate_of__isnull=True, study__isnull=True,
            decisions__stage=stage,
        ).distinct().order_by("position", "id")
    )  # fmt: skip
    taken = set(Study.objects.filter(review=review).values_list("label", flat=True))
    created = []
    for record in records:
        if record_outcome(stage, record) != "include":
            continue
        study = Study.objects.create(
            review=review, label=_study_label(record, taken), title=record.title,
            year=record.year,
        )  # fmt: skip
        record.study = study
        record.save(update_fields=["study"])
        Document.objects.filter(record=record, study__isnull=True).update(study=study)
        created.append(study)
        event_record(
            review=review, actor=user, verb="study.create", target=study, summary=study.label,
            data={"record": record.pk, "from": "full-text inclusion"},
        )  # fmt: skip
    return created


@transaction.atomic
def report_group(*, user, record: Record, study: Study, expected: str | None = None) -> Record:
    """Make a report a companion of a study (e.g. a conference abstract of a paper).

    `expected`: the study the reviewer's page showed the report under (its id as text, ""
    for none); if a co-reviewer has grouped it under another study since, EditConflict and
    nothing changes (unless the report is already under the study chosen)."""
    check(user, record.review_id, Action.EDIT_EVIDENCE)
    if study.review_id != record.review_id:
        raise ValidationError("That study belongs to another review.")
    record.study_id = (  # the row, locked, as saved now
        Record.objects.select_for_update().values_list("study_id", flat=True).get(pk=record.pk)
    )
    now = str(record.study_id) if record.study_id else ""
    if expected is not None and expected.strip() != now and record.study_id != study.pk:
        who, when = last_saved(record, ("report.group",), linked_verbs=("study.create",))
        current = Study.objects.filter(pk=record.study_id).first()
        raise EditConflict(
            f"{who} grouped record {record.pk} under "
            f"{current.label if current else 'no study'}{when}, after this page was opened. "
            f"Nothing was changed: your choice, {study.label}, was not saved; choose it "
            "again to regroup the report.",
            current=record,
        )
    old = record.study_id
    record.study = study
    record.save(update_fields=["study"])
    Document.objects.filter(record=record).update(study=study)
    event_record(
        review=record.review_id, actor=user, verb="report.group", target=record,
        summary=f"record {record.pk} → {study.label}", data={"old": old, "new": study.pk},
    )  # fmt: skip
    return record
