"""Identification writes: search log, import of exports, deduplication decisions.

Keyword-only, permission-checked, audited. An import is all or nothing: a file that cannot be
read, or a failure half-way, leaves no record behind (the batch keeps the error to show).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from studies import dedup
from studies.importers import ImportFormatError, parse
from studies.models import DuplicateCandidate, ImportBatch, Record, RecordSource, Search
from synthesis.audit import event_record
from synthesis.jobs import job_enqueue, job_progress
from synthesis.models import Review
from synthesis.permissions import Action, check

BACKGROUND_BYTES = 1_000_000  # files larger than this import as a background job
MERGE_FIELDS = ["title", "abstract", "authors", "year", "journal", "volume", "issue", "pages",
                "doi", "pmid", "url", "keywords", "type", "language"]  # fmt: skip
SEARCH_FIELDS = {"source", "kind", "phase", "run_on", "query", "limits", "reported_hits", "notes"}
BULK = 2000


# --- search log ------------------------------------------------------------------------------


def _search_clean(review: Review, fields: dict) -> dict:
    unknown = set(fields) - SEARCH_FIELDS
    if unknown:
        raise ValueError(f"Unknown search field(s): {', '.join(sorted(unknown))}")
    phase = fields.get("phase")
    if phase is not None and phase.review_id != review.pk:
        raise ValueError("That phase belongs to another review.")
    return fields


@transaction.atomic
def search_create(*, user, review: Review, source: str, **fields) -> Search:
    check(user, review, Action.EDIT_EVIDENCE)
    search = Search(review=review, source=source, **_search_clean(review, fields))
    search.full_clean()
    search.save()
    event_record(review=review, actor=user, verb="search.create", target=search, summary=source)
    return search


@transaction.atomic
def search_update(*, user, search: Search, **fields) -> Search:
    check(user, search.review_id, Action.EDIT_EVIDENCE)
    _search_clean(search.review, fields)
    old = {k: str(getattr(search, k)) for k in fields}
    for k, v in fields.items():
        setattr(search, k, v)
    search.full_clean()
    search.save()
    event_record(
        review=search.review_id, actor=user, verb="search.update", target=search,
        summary=search.source, data={"old": old, "new": {k: str(v) for k, v in fields.items()}},
    )  # fmt: skip
    return search


# --- import ----------------------------------------------------------------------------------


def import_preview(
    *, user, review: Review, data: bytes, filename: str, format: str = "auto",
    options: dict | None = None, sample_size: int = 5,
) -> dict:  # fmt: skip
    """Parse without writing: counts, a sample, warnings, or the error naming file/line."""
    check(user, review, Action.VIEW)
    try:
        result = parse(data, format=format, filename=filename, options=options)
    except ImportFormatError as exc:
        return {"format": format, "parsed": 0, "sample": [], "warnings": [], "error": exc.message}
    with_doi = sum(1 for r in result.records if r.doi)
    return {
        "format": result.format,
        "parsed": len(result.records),
        "with_doi": with_doi,
        "without_title": sum(1 for r in result.records if not r.title),
        "without_abstract": sum(1 for r in result.records if not r.abstract),
        "sample": [r.as_dict() for r in result.records[:sample_size]],
        "warnings": result.warnings[:50],
        "error": "",
    }


@transaction.atomic
def import_batch_create(
    *, user, review: Review, search: Search, data: bytes, filename: str,
    format: str = "auto", options: dict | None = None,
) -> ImportBatch:  # fmt: skip
    """Keep an uploaded file awaiting confirmation (status "preview")."""
    check(user, review, Action.EDIT_EVIDENCE)
    if search.review_id != review.pk:
        raise ValueError("That search belongs to another review.")
    batch = ImportBatch(
        review=review, search=search, filename=os.path.basename(filename)[:255],
        format="" if format == "auto" else format, options=options or {}, created_by=user,
    )  # fmt: skip
    batch.file.save(os.path.basename(filename) or "upload.txt", ContentFile(data), save=False)
    batch.save()
    event_record(
        review=review, actor=user, verb="import.upload", target=batch, summary=batch.filename
    )
    return batch


def import_confirm(*, user, batch: ImportBatch) -> ImportBatch:
    """Run the import now, or as a background job for large files."""
    check(user, batch.review_id, Action.EDIT_EVIDENCE)
    if batch.status not in (ImportBatch.Status.PREVIEW, ImportBatch.Status.FAILED):
        raise ValueError("This file has already been imported.")
    size = batch.file.size if batch.file else 0
    if size > BACKGROUND_BYTES:
        with transaction.atomic():
            job = job_enqueue(
                review=batch.review, kind="import", user=user,
                func="studies.services.identification.import_job",
                params={"batch_id": batch.pk, "user_id": user.pk},
            )  # fmt: skip
            ImportBatch.objects.filter(pk=batch.pk).update(
                status=ImportBatch.Status.QUEUED, job=job, error=""
            )
        batch.refresh_from_db()
        return batch
    import_run(user=user, batch=batch)
    batch.refresh_from_db()
    return batch


def import_job(*, job, batch_id: int, user_id: int) -> dict:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(pk=user_id)
    batch = ImportBatch.objects.select_related("review", "search").get(pk=batch_id)
    try:
        batch = import_run(user=user, batch=batch, job=job)
    except ImportFormatError as exc:
        return {"error": exc.message}
    return {"parsed": batch.parsed_count, "created": batch.created_count,
            "duplicates": batch.duplicate_count}  # fmt: skip


@dataclass
class ImportSummary:
    parsed: int
    created: int
    duplicates: int
    candidates: int
    warnings: list[str]


def import_run(*, user, batch: ImportBatch, data: bytes | None = None, job=None) -> ImportBatch:
    """Parse, write and deduplicate one file, all or nothing. On failure the batch is marked
    rejected with the error (file, line, problem) and the exception re-raised."""
    check(user, batch.review_id, Action.EDIT_EVIDENCE)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.RUNNING, error="")
    try:
        if data is None:
            with batch.file.open("rb") as f:
                data = f.read()
        with transaction.atomic():
            summary = _import(user=user, batch=batch, data=data, job=job)
    except ImportFormatError as exc:
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportBatch.Status.FAILED, error=exc.message
        )
        raise
    except Exception as exc:
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportBatch.Status.FAILED, error=f"{batch.filename}: import failed ({exc})"
        )
        raise
    batch.refresh_from_db()
    batch.candidate_count = summary.candidates
    return batch


def _progress(job, step: int, message: str) -> None:
    if job is not None:
        job_progress(job, progress=step, total=4, message=message)


def _import(*, user, batch: ImportBatch, data: bytes, job) -> ImportSummary:
    review = Review.objects.select_for_update().get(pk=batch.review_id)  # one import at a time
    _progress(job, 0, "Reading the file")
    result = parse(data, format=batch.format or "auto", filename=batch.filename,
                   options=batch.options)  # fmt: skip
    _progress(job, 1, f"Writing {len(result.records)} records")
    start = (Record.objects.filter(review=review).aggregate(m=Max("position"))["m"] or 0) + 1
    records = [
        Record(
            review=review,
            batch=batch,
            position=start + i,
            title=r.title,
            abstract=r.abstract,
            authors=r.authors,
            year=r.year,
            journal=r.journal,
            volume=r.volume,
            issue=r.issue,
            pages=r.pages,
            doi=r.doi,
            pmid=r.pmid,
            url=r.url,
            keywords=r.keywords,
            type=r.type,
            language=r.language,
            raw={**r.raw, "_line": r.line} if r.line else r.raw,
            title_key=dedup.fold(r.title)[:255],
        )  # fmt: skip
        for i, r in enumerate(result.records)
    ]
    Record.objects.bulk_create(records, batch_size=BULK)
    if any(r.pk is None for r in records):  # backends that do not return ids
        by_pos = dict(Record.objects.filter(batch=batch).values_list("position", "pk"))
        for r in records:
            r.pk = r.id = by_pos[r.position]
    from studies.services.screening import record_keys_assign

    record_keys_assign(review_id=review.pk, dual_seed=review.dual_seed)
    RecordSource.objects.bulk_create(
        [RecordSource(record_id=r.pk, search_id=batch.search_id, batch=batch) for r in records],
        batch_size=BULK,
    )
    _progress(job, 2, "Looking for duplicates")
    new_items = [_item(r) for r in records]
    existing = [
        _item_from_values(v)
        for v in Record.objects.filter(review=review, duplicate_of__isnull=True)
        .exclude(batch=batch)
        .values(
            "pk",
            "title",
            "authors",
            "year",
            "journal",
            "volume",
            "issue",
            "pages",
            "doi",
            "pmid",
            "type",
            "position",
        )  # fmt: skip
        .iterator(chunk_size=BULK)
    ]
    pairs = dedup.find_duplicates(new_items, existing=existing)
    merged, candidates = _apply_pairs(
        review=review, batch=batch, pairs=pairs, new={r.pk: r for r in records}, user=user
    )
    _progress(job, 3, "Saving counts")
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.DONE,
        format=result.format,
        parsed_count=len(records),
        created_count=len(records) - merged,
        duplicate_count=merged,
        warnings=result.warnings[:200],
        error="",
    )
    event_record(
        review=review, actor=user, verb="import.run", target=batch, summary=batch.filename,
        data={"parsed": len(records), "duplicates": merged, "candidates": candidates,
              "format": result.format},
    )  # fmt: skip
    _progress(job, 4, "Done")
    return ImportSummary(len(records), len(records) - merged, merged, candidates, result.warnings)


def _item(r: Record) -> dedup.DedupItem:
    return dedup.DedupItem(
        id=r.pk, title=r.title, authors=r.authors, year=r.year, journal=r.journal,
        volume=r.volume, issue=r.issue, pages=r.pages, doi=r.doi, pmid=r.pmid, type=r.type,
    )  # fmt: skip


def _item_from_values(v: dict) -> dedup.DedupItem:
    v = dict(v)
    v.pop("position", None)
    return dedup.DedupItem(id=v.pop("pk"), **v)


def _apply_pairs(*, review, batch, pairs, new: dict[int, Record], user) -> tuple[int, int]:
    """Auto-merge clusters above the review's threshold; store the rest as candidates."""
    threshold = review.auto_merge_threshold
    groups = dedup.clusters(pairs, threshold=threshold)
    ids_in_groups = {i for g in groups for i in g}
    existing = {
        r.pk: r for r in Record.objects.filter(pk__in=[i for i in ids_in_groups if i not in new])
    }
    survivor_of: dict[int, int] = {}
    changed: dict[int, Record] = {}
    snapshots: dict[int, dict] = {}
    for group in groups:
        members = [existing.get(i) or new[i] for i in group]
        # The library's record survives (it may carry screening decisions); among new ones,
        # the most complete, then the first imported.
        members.sort(key=lambda r: (r.pk in new, -_completeness(r), r.position))
        survivor = members[0]
        snapshots.setdefault(survivor.pk, _fields(survivor))
        for loser in members[1:]:
            _merge_fields(survivor, loser)
            loser.duplicate_of_id = survivor.pk
            survivor_of[loser.pk] = survivor.pk
            changed[loser.pk] = loser
        changed[survivor.pk] = survivor
    # Row-by-row updates: bulk_update's CASE expressions grow quadratic on SQLite.
    for pk, rec in changed.items():
        if pk in survivor_of:
            Record.objects.filter(pk=pk).update(duplicate_of_id=rec.duplicate_of_id)
        if pk in snapshots and _fields(rec) != snapshots[pk]:
            Record.objects.filter(pk=pk).update(**_fields(rec))
    now = timezone.now()
    best: dict[int, tuple[float, str]] = {}
    for p in pairs:
        for x in (p.a, p.b):
            if x in survivor_of and p.score >= threshold and p.score > best.get(x, (0, ""))[0]:
                best[x] = (p.score, p.reason)
    rows = []
    # One merged row per duplicate (loser → survivor), so each auto-merge can be undone.
    for loser, keep in survivor_of.items():
        score, reason = best.get(loser, (threshold, "clustered with duplicates"))
        rows.append(DuplicateCandidate(
            review=review, record_a_id=min(loser, keep), record_b_id=max(loser, keep),
            score=score, reason=reason[:120], status=DuplicateCandidate.Status.MERGED,
            auto=True, survivor_id=keep, batch=batch, decided_at=now,
            snapshot={"survivor": snapshots.get(keep, {}), "loser": loser, "repointed": []},
        ))  # fmt: skip
    seen = {(r.record_a_id, r.record_b_id) for r in rows}
    for p in pairs:
        a, b = (p.a, p.b) if p.a < p.b else (p.b, p.a)
        if (a, b) in seen or survivor_of.get(a, a) == survivor_of.get(b, b):
            continue  # merged directly or through the rest of its cluster
        seen.add((a, b))
        rows.append(DuplicateCandidate(
            review=review, record_a_id=a, record_b_id=b, score=p.score, reason=p.reason[:120],
            batch=batch,
        ))  # fmt: skip
    DuplicateCandidate.objects.bulk_create(rows, batch_size=BULK, ignore_conflicts=True)
    pending = sum(1 for r in rows if r.status == DuplicateCandidate.Status.PENDING)
    return len(survivor_of), pending


def _fields(r: Record) -> dict:
    return {f: getattr(r, f) for f in MERGE_FIELDS}


def _completeness(r: Record) -> int:
    return dedup.completeness(_fields(r)) + (1 if len(r.abstract) > 200 else 0)


def _merge_fields(survivor: Record, loser: Record) -> None:
    """Fill the survivor from the duplicate: empty fields, a longer abstract, more authors,
    the union of keywords. Nothing the survivor already has is overwritten otherwise."""
    for f in MERGE_FIELDS:
        mine, theirs = getattr(survivor, f), getattr(loser, f)
        if theirs in (None, "", []):
            continue
        if mine in (None, "", []):
            setattr(survivor, f, theirs)
        elif f == "abstract" and len(theirs) > len(mine) * 1.2:
            survivor.abstract = theirs
        elif f == "authors" and len(theirs) > len(mine):
            survivor.authors = theirs
        elif f == "keywords":
            survivor.keywords = list(dict.fromkeys([*mine, *theirs]))


# --- duplicates page decisions ---------------------------------------------------------------


def _root(record: Record) -> Record:
    seen = set()
    while record.duplicate_of_id and record.pk not in seen:
        seen.add(record.pk)
        record = Record.objects.get(pk=record.duplicate_of_id)
    return record


@transaction.atomic
def duplicate_confirm(
    *, user, candidate: DuplicateCandidate, survivor: Record | None = None
) -> DuplicateCandidate:
    """Merge the pair; `survivor` (one of the two) is kept, else the more complete record."""
    check(user, candidate.review_id, Action.EDIT_EVIDENCE)
    candidate = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
    if candidate.status == DuplicateCandidate.Status.MERGED:
        raise ValueError("These records are already merged.")
    a, b = _root(candidate.record_a), _root(candidate.record_b)
    if survivor is not None:
        if survivor.pk not in (candidate.record_a_id, candidate.record_b_id):
            raise ValueError("The surviving record must be one of the pair.")
        keep = _root(survivor)
    else:
        keep = a if (_completeness(a), -a.position) >= (_completeness(b), -b.position) else b
    loser = b if keep.pk == a.pk else a
    snapshot = {"survivor": _fields(keep), "loser": loser.pk, "repointed": []}
    if keep.pk != loser.pk:
        _merge_fields(keep, loser)
        keep.save(update_fields=MERGE_FIELDS)
        repointed = list(Record.objects.filter(duplicate_of=loser).values_list("pk", flat=True))
        Record.objects.filter(pk__in=repointed).update(duplicate_of=keep)
        snapshot["repointed"] = repointed
        loser.duplicate_of = keep
        loser.save(update_fields=["duplicate_of"])
    candidate.status = DuplicateCandidate.Status.MERGED
    candidate.survivor = keep
    candidate.snapshot = snapshot
    candidate.decided_by = user
    candidate.decided_at = timezone.now()
    candidate.save()
    event_record(
        review=candidate.review_id, actor=user, verb="duplicate.confirm", target=candidate,
        summary=f"record {loser.pk} merged into {keep.pk}",
    )  # fmt: skip
    return candidate


@transaction.atomic
def duplicate_reject(*, user, candidate: DuplicateCandidate) -> DuplicateCandidate:
    check(user, candidate.review_id, Action.EDIT_EVIDENCE)
    candidate = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
    if candidate.status == DuplicateCandidate.Status.MERGED:
        raise ValueError("Undo the merge first.")
    candidate.status = DuplicateCandidate.Status.REJECTED
    candidate.decided_by = user
    candidate.decided_at = timezone.now()
    candidate.save()
    event_record(
        review=candidate.review_id, actor=user, verb="duplicate.reject", target=candidate,
        summary=f"records {candidate.record_a_id} and {candidate.record_b_id} are distinct",
    )  # fmt: skip
    return candidate


@transaction.atomic
def duplicate_undo(*, user, candidate: DuplicateCandidate) -> DuplicateCandidate:
    """Undo a merge (restore the survivor's fields, separate the records) or a rejection;
    the pair goes back to "to check"."""
    check(user, candidate.review_id, Action.EDIT_EVIDENCE)
    candidate = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
    if candidate.status == DuplicateCandidate.Status.MERGED:
        snap = candidate.snapshot or {}
        loser_id = snap.get("loser")
        if candidate.survivor_id and snap.get("survivor") is not None:
            Record.objects.filter(pk=candidate.survivor_id).update(**snap["survivor"])
        if loser_id:
            Record.objects.filter(pk=loser_id).update(duplicate_of=None)
            Record.objects.filter(pk__in=snap.get("repointed", [])).update(duplicate_of=loser_id)
    elif candidate.status != DuplicateCandidate.Status.REJECTED:
        raise ValueError("Nothing to undo.")
    old = candidate.status
    candidate.status = DuplicateCandidate.Status.PENDING
    candidate.survivor = None
    candidate.snapshot = {}
    candidate.decided_by = user
    candidate.decided_at = timezone.now()
    candidate.save()
    event_record(
        review=candidate.review_id, actor=user, verb="duplicate.undo", target=candidate,
        summary=f"undid {old} of {candidate.record_a_id} ~ {candidate.record_b_id}",
    )  # fmt: skip
    return candidate


def pending_for(review: Review):
    return DuplicateCandidate.objects.filter(review=review, status="pending").filter(
        Q(record_a__duplicate_of__isnull=True) & Q(record_b__duplicate_of__isnull=True)
    )
