"""Identification writes: search log, import of exports, deduplication decisions.

Keyword-only, permission-checked, audited. An import is all or nothing: a file that cannot be
read, or a failure half-way, leaves no record behind (the batch keeps the error to show).
"""

from __future__ import annotations

import functools
import io
import json
import os
from collections import defaultdict
from dataclasses import dataclass
from types import SimpleNamespace

import orjson
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from studies import dedup
from studies.importers import ImportFormatError, decode_bytes, detect_format, parse_stream
from studies.importers.tabular import FIELDS as TABULAR_FIELDS
from studies.importers.tabular import describe_columns, sniff_separator
from studies.models import DuplicateCandidate, ImportBatch, Record, RecordSource, Search
from studies.services.record_writer import RecordWriter, StatementQueue, copy_text
from studies.services.screening import record_keys_assign
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
    counts = {"parsed": 0, "with_doi": 0, "without_title": 0, "without_abstract": 0}
    sample = []
    try:
        # Streamed: a large file is counted without holding all its records.
        stream = parse_stream(data, format=format, filename=filename, options=options)
        for rec in stream:
            counts["parsed"] += 1
            counts["with_doi"] += bool(rec.doi)
            counts["without_title"] += not rec.title
            counts["without_abstract"] += not rec.abstract
            if len(sample) < sample_size:
                sample.append(rec.as_dict())
    except ImportFormatError as exc:
        return {"format": format, "parsed": 0, "sample": [], "warnings": [], "error": exc.message,
                "columns": _columns(data, format, options)}  # fmt: skip
    return {"format": stream.format, **counts, "sample": sample,
            "warnings": stream.warnings[:50], "error": "",
            "columns": _columns(data, stream.format, options)}  # fmt: skip


def _columns(data: bytes, format: str, options: dict | None) -> dict | None:
    """For a CSV export: its columns and the field each maps to, for the user to adjust."""
    try:
        text, _ = decode_bytes(data)
        if format in ("", "auto"):
            try:
                fmt = detect_format(text)
            except ImportFormatError:
                # A table whose headers we do not know: let the user map them.
                fmt = "csv" if _is_table(text) else ""
        else:
            fmt = format
        if fmt != "csv":
            return None
        return describe_columns(text, options)
    except (ImportFormatError, ValueError):
        return None


def _is_table(text: str) -> bool:
    first = text.lstrip().split("\n", 1)[0]
    return len(first) < 5000 and len(first.split(sniff_separator(first))) >= 2


@transaction.atomic
def import_batch_columns_set(*, user, batch: ImportBatch, columns: dict[str, str]) -> ImportBatch:
    """The user's CSV column → field mapping ("" = not imported) for a file not yet imported."""
    check(user, batch.review_id, Action.EDIT_EVIDENCE)
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status not in (ImportBatch.Status.PREVIEW, ImportBatch.Status.FAILED):
        raise ValueError("This file has already been imported.")
    bad = sorted({f for f in columns.values() if f and f not in TABULAR_FIELDS})
    if bad:
        raise ValueError(f"Unknown field(s): {', '.join(bad)}")
    batch.options = {**(batch.options or {}), "columns": dict(columns)}
    if batch.format in ("", "auto"):
        batch.format = "csv"  # a column mapping means a table, even one we did not recognise
    batch.save(update_fields=["options", "format"])
    event_record(
        review=batch.review_id, actor=user, verb="import.columns", target=batch,
        summary=batch.filename, data={"columns": columns},
    )  # fmt: skip
    return batch


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
            # Handed over in a list so _import can drop the bytes once decoded (a 100k-record
            # file is ~160 MB; holding it through the whole import is pure waste).
            box, data = [data], None
            # The records' dedup keys pile up through the import (see dedup.gc_paused).
            with dedup.gc_paused():
                summary = _import(user=user, batch=batch, box=box, job=job)
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
    if summary.parsed >= ANALYZE_AFTER:
        # Queued once the import is committed (now, or when the caller's transaction commits):
        # the import is done for the reviewer without waiting for it (1–3 s on PostgreSQL).
        transaction.on_commit(functools.partial(_statistics_refresh_enqueue, summary.parsed))
    batch.refresh_from_db()
    batch.candidate_count = summary.candidates
    return batch


ANALYZE_AFTER = 5000  # records: below this the planner's statistics are not far off


def _statistics_refresh_enqueue(added: int) -> None:
    from django_q.tasks import async_task

    async_task(
        "studies.services.identification._statistics_refresh",
        added=added,
        task_name="planner-statistics",
    )


def _statistics_refresh(*, added: int) -> None:
    """Refresh the planner's statistics after a large import, once it is committed (ANALYZE
    inside the import's transaction would hold its locks longer and could not see the new rows
    as committed): with stale statistics the next record and screening page loads may pick plans
    made for a much smaller table. Cheap next to the import (see BENCHMARKS.md)."""
    tables = [m._meta.db_table for m in (Record, RecordSource, DuplicateCandidate)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ANALYZE samples a fixed number of rows whatever the import: ~1–2 s on a table of
            # 840k records. Worth it when the import grew the table by a tenth or more (the
            # point where autovacuum would analyze it too, but only up to a minute later).
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [tables[0]])
            row = cursor.fetchone()
            if row and row[0] > 0 and added < 0.1 * row[0]:
                return
            cursor.execute("ANALYZE " + ", ".join(map(connection.ops.quote_name, tables)))
        elif connection.vendor == "sqlite":
            # A sample per index, as `PRAGMA optimize` does, instead of reading every row.
            cursor.execute("PRAGMA analysis_limit = 1000")
            for table in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def _progress(job, step: int, message: str, *, store: bool = True) -> None:
    if job is not None:
        job_progress(job, progress=step, total=4, message=message, store=store)


def _import(*, user, batch: ImportBatch, box: list, job) -> ImportSummary:
    """Stream the file: parse → write (a second thread, see record_writer) → deduplicate on
    compact keys.

    Only the dedup keys of the new records stay in memory (not the records, not their
    abstracts or raw fields), so memory grows slowly with the file. A record that fails
    half-way raises, and the caller's transaction drops everything written before it.
    """
    review = Review.objects.select_for_update().get(pk=batch.review_id)  # one import at a time
    _progress(job, 0, "Reading the file")
    stream = parse_stream(box.pop(), format=batch.format or "auto", filename=batch.filename,
                          options=batch.options)  # fmt: skip
    first = (Record.objects.filter(review=review).aggregate(m=Max("position"))["m"] or 0) + 1
    # The library's unique records, read now: from here until writer.close() the writer
    # thread owns the connection.
    existing = [
        _item_from_values(v)
        for v in Record.objects.filter(review=review, duplicate_of__isnull=True)
        .values(*DEDUP_FIELDS)
        .iterator(chunk_size=BULK)
    ]
    if connection.vendor == "postgresql":
        # Foreign keys are checked as each COPY ends, by the server while this thread parses
        # on, instead of all at commit (≈ 4 s for 100k records and their sources) when nothing
        # else can run. Django's constraints are INITIALLY DEFERRED: restored below.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    writer = RecordWriter(
        dual_seed=review.dual_seed,
        first_position=first,
        search_id=batch.search_id,
        batch_id=batch.pk,
    ).start()
    try:
        # New records are known to dedup by -position until the writer hands back their ids.
        items = _parse_and_write(stream, writer, review=review, batch=batch, first=first, job=job)
        _progress(job, 2, f"Looking for duplicates among {len(items)} records", store=False)
        pairs = dedup.find_duplicates(items, existing=existing)  # while the last rows are written
        ids = writer.close()
    except BaseException:
        writer.abort()
        raise
    n = len(items)
    items.clear()  # only the pairs (ids and scores) are needed from here
    existing.clear()
    pairs = [
        dedup.Pair(ids[-p.a - first] if p.a < 0 else p.a, ids[-p.b - first] if p.b < 0 else p.b,
                   p.score, p.reason)
        for p in pairs
    ]  # fmt: skip
    merged, candidates = _apply_pairs(review=review, batch=batch, pairs=pairs, user=user)
    # Keys of records the writer did not key (none from this import; kept for safety).
    record_keys_assign(review_id=review.pk, dual_seed=review.dual_seed)
    _progress(job, 3, "Saving counts")
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.DONE,
        format=stream.format,
        parsed_count=n,
        created_count=n - merged,
        duplicate_count=merged,
        warnings=stream.warnings[:200],
        error="",
    )
    event_record(
        review=review, actor=user, verb="import.run", target=batch, summary=batch.filename,
        data={"parsed": n, "duplicates": merged, "candidates": candidates,
              "format": stream.format},
    )  # fmt: skip
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    _progress(job, 4, "Done")
    return ImportSummary(n, n - merged, merged, candidates, stream.warnings)


DEDUP_FIELDS = ("pk", "title", "authors", "year", "journal", "volume", "issue", "pages", "doi",
                "pmid", "type")  # fmt: skip
# Normalised fields whose value may be the verbatim copy of an original field.
_VERBATIM = ("title", "abstract", "journal", "volume", "issue", "pages", "doi", "pmid", "url",
             "type", "language")  # fmt: skip


def lean_raw(rec) -> dict:
    """The original fields, without storing twice what a normalised field already holds
    verbatim: such a field is recorded as {"_same": {tag: field name}} instead (the abstract
    and title are most of a record's bytes). `Record.original_fields()` expands it back."""
    by_value = {}
    for f in _VERBATIM:
        value = getattr(rec, f)
        if value and value not in by_value:
            by_value[value] = f
    out: dict = {}
    same: dict = {}
    for tag, value in rec.raw.items():
        if isinstance(value, str) and value in by_value:
            same[tag] = by_value[value]
        elif isinstance(value, list) and value and value == rec.authors:
            same[tag] = "authors"
        elif isinstance(value, list) and value and value == rec.keywords:
            same[tag] = "keywords"
        else:
            out[tag] = value
    if same:
        out["_same"] = same
    if rec.line:
        out["_line"] = rec.line
    return out


_json_slow = json.JSONEncoder(ensure_ascii=False).encode


def _json_text(value) -> str:
    """A JSON field's text for the rows. orjson is ≈ 9× faster than the json module: the 300k
    values of a 100k-record import take 0.13 s instead of 1.15 s. Anything it refuses (a lone
    surrogate, which the decoder should never let through) goes to the json module."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return _json_slow(value)


def _parse_and_write(stream, writer: RecordWriter, *, review, batch, first: int, job) -> list:
    """Build each record's row (record_writer.ROW_COLUMNS) and dedup key; the writer thread
    inserts the rows BULK at a time. Hand-written rows rather than bulk_create: on a 100k-record
    import, a model instance per record and the ORM's per-field preparation cost more than
    parsing the file. The values are the model's own (JSON text for the JSON fields, the
    backend's datetime format)."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    dumps = _json_text
    fold, item = dedup.fold, dedup.DedupItem
    review_id, batch_id = review.pk, batch.pk
    null = writer.null
    items: list[dedup.DedupItem] = []
    rows: list[tuple] = []
    position = first
    for r in stream:
        folded = fold(r.title)  # the title key, and dedup's normalised title
        rows.append((
            review_id, batch_id, position, r.title, r.abstract, dumps(r.authors),
            null if r.year is None else r.year,
            r.journal, r.volume, r.issue, r.pages, r.doi, r.pmid, r.url, dumps(r.keywords),
            r.type, r.language, dumps(lean_raw(r)), folded[:255], "", now,
        ))  # fmt: skip
        items.append(item(
            id=-position, title=r.title, authors=r.authors[:8], year=r.year, journal=r.journal,
            volume=r.volume, issue=r.issue, pages=r.pages, doi=r.doi, pmid=r.pmid, type=r.type,
            folded_title=folded,
        ))  # fmt: skip
        position += 1
        if len(rows) >= BULK:
            writer.put(rows)
            rows = []
            _progress(job, 1, f"Writing records: {len(items)} so far", store=False)
    if rows:
        writer.put(rows)
    return items


def _item_from_values(v: dict) -> dedup.DedupItem:
    # .values() gives a fresh dict per row: changed in place, no copy needed.
    v["authors"] = (v.get("authors") or [])[:8]
    return dedup.DedupItem(id=v.pop("pk"), **v)


GROUP_CHUNK = 1000  # duplicate groups loaded and written at a time


def _apply_pairs(*, review, batch, pairs, user) -> tuple[int, int]:
    """Auto-merge clusters above the review's threshold; store the rest as candidates.
    Groups are handled a slice at a time so only those records' fields are in memory. A
    slice's writes run (StatementQueue) while the next slice's merges are worked out."""
    threshold = review.auto_merge_threshold
    groups = dedup.clusters(pairs, threshold=threshold)
    survivor_of: dict[int, int] = {}
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    best: dict[int, tuple[float, str]] = {}
    for p in pairs:
        if p.score < threshold:
            break  # pairs come sorted by score, best first
        for x in (p.a, p.b):
            if p.score > best.get(x, (0, ""))[0]:
                best[x] = (p.score, p.reason)
    parts = [groups[at : at + GROUP_CHUNK] for at in range(0, len(groups), GROUP_CHUNK)]
    writes = StatementQueue()
    try:
        loaded = _members_load(parts[0]) if parts else {}
        for k, part in enumerate(parts):
            losers: list = []
            survivors: list = []
            rows = []
            for group in part:
                members = [loaded[i] for i in group]
                # The library's record survives (it may carry screening decisions); among new
                # ones, the most complete, then the first imported.
                members.sort(key=lambda r: (r.batch_id == batch.pk, -_completeness(r), r.position))
                survivor = members[0]
                before = _fields(survivor)
                for loser in members[1:]:
                    _merge_fields(survivor, loser)
                    survivor_of[loser.pk] = survivor.pk
                    losers.append((loser.pk, survivor.pk))
                after = _fields(survivor)
                # Undo restores what the merge changed; the unchanged fields need no copy.
                changed = {f: v for f, v in before.items() if after[f] != v}
                if changed:
                    survivor.changed = changed
                    survivors.append(survivor)
                for loser in members[1:]:
                    score, reason = best.get(loser.pk, (threshold, "clustered with duplicates"))
                    a, b = sorted((loser.pk, survivor.pk))
                    # One merged row per duplicate (loser → survivor): each merge can be undone.
                    rows.append((
                        review.pk, a, b, score, reason[:120], DuplicateCandidate.Status.MERGED.value,
                        True, survivor.pk,
                        dumps({"survivor": changed, "loser": loser.pk, "repointed": []}),
                        batch.pk, now, now,
                    ))  # fmt: skip
            # Reads wait for the previous slice's writes; then this slice's writes are queued
            # and run while the loop works out the next slice.
            writes.drain()
            raws = dict(
                Record.objects.filter(pk__in=[s.pk for s in survivors])
                .order_by()
                .values_list("pk", "raw")
            )
            loaded = _members_load(parts[k + 1]) if k + 1 < len(parts) else {}
            # Only the fields a merge changed are written (mostly the keywords): setting an
            # unchanged abstract would still store and compress it again.
            updated: dict[tuple[str, ...], list[tuple]] = defaultdict(list)
            for s in survivors:
                record = Record(pk=s.pk, raw=raws[s.pk], **{f: getattr(s, f) for f in MERGE_FIELDS})
                _pin_raw(record, s.changed)
                names = (*s.changed, *(("raw",) if record.raw is not raws[s.pk] else ()))
                updated[names].append((s.pk, *(getattr(record, n) for n in names)))
            # Losers pointed at their survivors, in id order: neighbouring rows share pages.
            writes.submit(
                functools.partial(_records_update, names=("duplicate_of_id",), rows=sorted(losers))
            )
            for names, values in updated.items():
                writes.submit(functools.partial(_records_update, names=names, rows=values))
            writes.submit(functools.partial(_candidates_insert, rows=rows))
            del losers, survivors, updated, rows, raws
        seen: set[tuple[int, int]] = set()
        rows = []
        for p in pairs:
            a, b = (p.a, p.b) if p.a < p.b else (p.b, p.a)
            if (a, b) in seen or survivor_of.get(a, a) == survivor_of.get(b, b):
                continue  # merged directly or through the rest of its cluster
            seen.add((a, b))
            rows.append((review.pk, a, b, p.score, p.reason[:120],
                         DuplicateCandidate.Status.PENDING.value, False, None, "{}", batch.pk,
                         None, now))  # fmt: skip
        writes.submit(functools.partial(_candidates_insert, rows=rows))
        writes.close()
    except BaseException:
        writes.close(check=False)
        raise
    return len(survivor_of), len(rows)


def _members_load(part: list[list[int]]) -> dict:
    """The merge fields of a slice's records, as plain objects from .values() rather than
    model instances (~34k members on a 100k import); `raw` is read later, and only for the
    survivors a merge changes. No ordering: the model's default joins the review."""
    return {
        v["pk"]: SimpleNamespace(**v)
        for v in Record.objects.filter(pk__in=[i for g in part for i in g])
        .order_by()
        .values("pk", *MERGE_FIELDS, "position", "batch_id")
    }


_CANDIDATE_COLUMNS = ("review_id", "record_a_id", "record_b_id", "score", "reason", "status",
                      "auto", "survivor_id", "snapshot", "batch_id", "decided_at", "created_at")  # fmt: skip


def _candidates_insert(cursor, *, rows: list[tuple]) -> None:
    """Multi-row INSERT … ON CONFLICT DO NOTHING (a pair already stored stays as it is), as
    bulk_create(ignore_conflicts=True) did, without a model instance per pair: on a 100k import
    with ~17k merges those instances cost seconds. `cursor` is a StatementQueue's."""
    if not rows:
        return
    table = connection.ops.quote_name(DuplicateCandidate._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in _CANDIDATE_COLUMNS)
    if connection.vendor == "postgresql":
        # COPY: no conflict is possible here, since every pair has a record of this import
        # (dedup never pairs two library records). Half the time of the INSERTs on 17k merges.
        text = "".join("\t".join(map(copy_text, row)) + "\n" for row in rows)
        cursor.copy_expert(
            f"COPY {table} ({cols}) FROM STDIN", io.StringIO(text), size=len(text) + 1
        )
        return
    one = "(" + ", ".join(["%s"] * len(_CANDIDATE_COLUMNS)) + ")"
    per = max(
        1, min(BULK, (connection.features.max_query_params or 999) // len(_CANDIDATE_COLUMNS))
    )
    for at in range(0, len(rows), per):
        part = rows[at : at + per]
        cursor.execute(
            f"INSERT INTO {table} ({cols}) VALUES "  # noqa: S608 (table name)
            f"{', '.join([one] * len(part))} ON CONFLICT DO NOTHING",
            [v for row in part for v in row],
        )


_JSON_FIELDS = frozenset(("authors", "keywords", "raw"))


def _records_update(cursor, *, names: tuple[str, ...], rows: list[tuple]) -> None:
    """Set columns `names` of records from rows of (id, *values): UPDATE … FROM (VALUES …),
    up to 400 records a statement (SQLite ≥ 3.33 and PostgreSQL both name VALUES columns
    column1, column2, …). Merges use it to point duplicates at their survivors and to write
    the fields a merge filled in; Django's bulk_update (a CASE per row and field) took 23 s of
    a 100k-record import whose survivors took other databases' keywords."""
    table = connection.ops.quote_name(Record._meta.db_table)
    pg = connection.vendor == "postgresql"
    sets = []
    for i, name in enumerate(names, start=2):
        value = f"v.column{i}"
        if pg and name in _JSON_FIELDS:
            value += "::jsonb"
        elif pg and name == "year":
            value += "::integer"  # a column of NULLs alone would be text
        sets.append(f"{connection.ops.quote_name(name)} = {value}")
    json_at = [i for i, n in enumerate(names, start=1) if n in _JSON_FIELDS]
    if json_at:
        rows = [list(r) for r in rows]
        for r in rows:
            for i in json_at:
                r[i] = _json_text(r[i])
    per = max(1, min(400, (connection.features.max_query_params or 999) // (len(names) + 1)))
    one = "(" + ", ".join(["%s"] * (len(names) + 1)) + ")"
    for at in range(0, len(rows), per):
        part = rows[at : at + per]
        cursor.execute(
            f"UPDATE {table} SET {', '.join(sets)} "  # noqa: S608 (table and column names)
            f"FROM (VALUES {', '.join([one] * len(part))}) AS v WHERE {table}.id = v.column1",
            [x for row in part for x in row],
        )


def _pin_raw(record: Record, old: dict) -> None:
    """A merge is about to change fields that `raw` refers to ("_same"): copy the original
    values into raw first, so the record's original fields survive the merge."""
    same = (record.raw or {}).get("_same") or {}
    pinned = {tag: name for tag, name in same.items() if name in old}
    if not pinned:
        return
    raw = dict(record.raw)
    raw["_same"] = {t: n for t, n in same.items() if t not in pinned}
    if not raw["_same"]:
        del raw["_same"]
    for tag, name in pinned.items():
        raw[tag] = old[name]
    record.raw = raw


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
        _pin_raw(keep, {f: v for f, v in snapshot["survivor"].items() if getattr(keep, f) != v})
        keep.save(update_fields=[*MERGE_FIELDS, "raw"])
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
        if candidate.survivor_id and snap.get("survivor"):
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
