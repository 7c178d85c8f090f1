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
from sys import intern

import orjson
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Max, Q
from django.db.models.functions import Length
from django.utils import timezone

from studies import dedup
from studies.importers import ImportFormatError, decode_bytes, detect_format, parse_stream
from studies.importers.tabular import FIELDS as TABULAR_FIELDS
from studies.importers.tabular import describe_columns, sniff_separator
from studies.models import DuplicateCandidate, ImportBatch, Record, Search
from studies.services.record_writer import RecordWriter, StatementQueue, copy_text
from synthesis.audit import event_record
from synthesis.concurrency import edit_lock, edit_save
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
def search_update(*, user, search: Search, expected_version: int | None = None, **fields) -> Search:
    """Change a logged search. `expected_version`: the Search.version the editor opened; if
    a co-reviewer has saved it since, EditConflict and nothing changes (None: no check)."""
    check(user, search.review_id, Action.EDIT_EVIDENCE)
    _search_clean(search.review, fields)
    edit_lock(
        search, expected_version=expected_version, verbs=("search.update",),
        name=lambda s: f"the search of {s.source}",
    )  # fmt: skip
    old = {k: str(getattr(search, k)) for k in fields}
    for k, v in fields.items():
        setattr(search, k, v)
    search.full_clean()
    edit_save(search, fields)
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


def import_batch_preview(*, user, batch: ImportBatch) -> dict:
    """The preview of a file awaiting confirmation, parsed on the first visit and then kept on
    the batch (until its column mapping changes). Not audited: nothing of the review changes."""
    check(user, batch.review_id, Action.VIEW)
    if batch.preview:
        return batch.preview
    with batch.file.open("rb") as f:
        data = f.read()
    preview = import_preview(
        user=user, review=batch.review, data=data, filename=batch.filename,
        format=batch.format or "auto", options=batch.options,
    )  # fmt: skip
    ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.PREVIEW).update(
        preview=preview
    )
    batch.preview = preview
    return preview


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
    batch.preview = {}  # parsed again with the new mapping
    batch.save(update_fields=["options", "format", "preview"])
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
    tables = [m._meta.db_table for m in (Record, DuplicateCandidate)]
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
    ).start()
    try:
        # New records are known to dedup by -position until the writer hands back their ids.
        items, extras = _parse_and_write(
            stream, writer, review=review, batch=batch, first=first, job=job
        )
        _progress(job, 2, f"Looking for duplicates among {len(items)} records", store=False)
        pairs = dedup.find_duplicates(items, existing=existing)  # while the last rows are written
        ids = writer.close()
    except BaseException:
        writer.abort()
        raise
    n = len(items)
    existing.clear()  # library records in a group are read again, with their merge fields
    pairs = [
        dedup.Pair(ids[-p.a - first] if p.a < 0 else p.a, ids[-p.b - first] if p.b < 0 else p.b,
                   p.score, p.reason)
        for p in pairs
    ]  # fmt: skip
    merged, candidates = _apply_pairs(
        review=review, batch=batch, pairs=pairs, new=_NewRecords(ids, items, extras, first)
    )
    items.clear()
    extras.clear()
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
    if stream.meta and batch.search_id:
        _search_fill(user=user, search=batch.search, meta=stream.meta)
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


def _search_fill(*, user, search: Search, meta: dict) -> None:
    """What the file says of its search (Ovid's text export: the strategy and its last line's
    count), into the search log where the reviewer has not written it yet."""
    fields: dict = {}
    if meta.get("strategy") and not search.query.strip():
        fields["query"] = meta["strategy"]
    if meta.get("hits") is not None and search.reported_hits is None:
        fields["reported_hits"] = meta["hits"]
    if fields:
        search_update(user=user, search=search, **fields)


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


def _json_load(text: str):
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # what _json_text wrote with the json module
        return json.loads(text)


def _parse_and_write(
    stream, writer: RecordWriter, *, review, batch, first: int, job
) -> tuple[list, list]:
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
    extras: list[tuple] = []
    shared: dict[tuple, dict] = {}
    rows: list[tuple] = []
    position = first
    for r in stream:
        folded = fold(r.title)  # the title key, and dedup's normalised title
        raw = lean_raw(r)
        rows.append((
            review_id, batch_id, position, r.title, r.abstract, dumps(r.authors),
            null if r.year is None else r.year,
            r.journal, r.volume, r.issue, r.pages, r.doi, r.pmid, r.url,
            (keywords := dumps(r.keywords)), r.type, r.language, dumps(raw), folded[:255], "", now,
        ))  # fmt: skip
        items.append(item(
            id=-position, title=r.title, authors=r.authors[:8], year=r.year, journal=r.journal,
            volume=r.volume, issue=r.issue, pages=r.pages, doi=r.doi, pmid=r.pmid, type=r.type,
            folded_title=folded,
        ))  # fmt: skip
        # What merging needs beyond the dedup item (_NewRecords), compactly: the abstract's
        # length, not its text; the keywords as the row's JSON; each "_same" map and language
        # shared between the records that have it. ≈ 400 bytes a record.
        same = raw.get("_same")
        if same:
            same = shared.setdefault(tuple(same.items()), same)
        extras.append((
            r.authors if len(r.authors) > 8 else None, r.url, keywords, intern(r.language),
            len(r.abstract), same,
        ))  # fmt: skip
        position += 1
        if len(rows) >= BULK:
            writer.put(rows)
            rows = []
            _progress(job, 1, f"Writing records: {len(items)} so far", store=False)
    if rows:
        writer.put(rows)
    return items, extras


def _item_from_values(v: dict) -> dedup.DedupItem:
    # .values() gives a fresh dict per row: changed in place, no copy needed.
    v["authors"] = (v.get("authors") or [])[:8]
    return dedup.DedupItem(id=v.pop("pk"), **v)


GROUP_CHUNK = 1000  # duplicate groups worked out and written at a time
_SCALAR_FIELDS = tuple(f for f in MERGE_FIELDS if f != "abstract")
_EMPTY = (None, "", [])


class _Member:
    """A record of a duplicate group, as merging sees it: every merge field but the abstract,
    of which only the length (to choose) and whose text it now is (`abstract_of`)."""

    __slots__ = ("pk", "position", "batch_id", "abstract_len", "abstract_of", "same",
                 *_SCALAR_FIELDS)  # fmt: skip

    def __init__(self, **values):
        for name, value in values.items():
            setattr(self, name, value)
        self.abstract_of = self.pk

    def completeness(self) -> int:
        return _completeness_of(self, self.abstract_len)


class _NewRecords:
    """This import's records as merging needs them, from what the parse kept in memory
    (dedup items and _parse_and_write's extras), so merging reads none of them back."""

    def __init__(self, ids: list[int], items: list, extras: list, first: int):
        self.slot = {pk: k for k, pk in enumerate(ids)}
        self.items, self.extras, self.first = items, extras, first

    def member(self, pk: int, batch_id: int) -> _Member:
        k = self.slot[pk]
        item = self.items[k]
        authors, url, keywords, language, abstract_len, same = self.extras[k]
        return _Member(
            pk=pk, position=self.first + k, batch_id=batch_id, title=item.title,
            authors=authors if authors is not None else item.authors, year=item.year,
            journal=item.journal, volume=item.volume, issue=item.issue, pages=item.pages,
            doi=item.doi, pmid=item.pmid, url=url, keywords=_json_load(keywords), type=item.type,
            language=language, abstract_len=abstract_len, same=same or {},
        )  # fmt: skip


def _library_members(pks: list[int]) -> dict[int, _Member]:
    """The library's records in this import's groups (few: only they are read back)."""
    out = {}
    for at in range(0, len(pks), 2000):
        for v in (
            Record.objects.filter(pk__in=pks[at : at + 2000])
            .order_by()
            .values(
                "pk",
                *_SCALAR_FIELDS,
                "position",
                "batch_id",
                "raw",
                abstract_len=Length("abstract"),
            )  # fmt: skip
        ):
            v["same"] = (v.pop("raw") or {}).get("_same") or {}
            out[v["pk"]] = _Member(**v)
    return out


def _merge_group(members: list[_Member], batch_id: int) -> tuple[_Member, dict]:
    """Choose the survivor and fill it from the others (as _merge_fields does, the abstract
    by its length); returns it and the merge fields it changed, with their old values (the
    abstract's old text is not known here: `survivor.abstract_of != survivor.pk` says it
    changed). The library's record survives (it may carry screening decisions); among new
    ones, the most complete, then the first imported."""
    members.sort(key=lambda m: (m.batch_id == batch_id, -m.completeness(), m.position))
    survivor = members[0]
    before = {f: getattr(survivor, f) for f in _SCALAR_FIELDS}
    for loser in members[1:]:
        for f in _SCALAR_FIELDS:
            setattr(survivor, f, _merged_value(f, getattr(survivor, f), getattr(loser, f)))
        if _takes_abstract(survivor.abstract_len, loser.abstract_len):
            survivor.abstract_len, survivor.abstract_of = loser.abstract_len, loser.abstract_of
    return survivor, {f: v for f, v in before.items() if getattr(survivor, f) != v}


def _apply_pairs(*, review, batch, pairs, new: _NewRecords) -> tuple[int, int]:
    """Auto-merge clusters above the review's threshold; store the rest as candidates.

    The merges are worked out from what the parse kept in memory; only the library's records
    in a group and the abstracts a merge moves are read. Groups go a slice at a time: a
    slice's writes run (StatementQueue) while the next slice is worked out."""
    threshold = review.auto_merge_threshold
    groups = dedup.clusters(pairs, threshold=threshold)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    best: dict[int, tuple[float, str]] = {}
    for p in pairs:
        if p.score < threshold:
            break  # pairs come sorted by score, best first
        for x in (p.a, p.b):
            if p.score > best.get(x, (0, ""))[0]:
                best[x] = (p.score, p.reason)
    library = _library_members([i for g in groups for i in g if i not in new.slot])
    survivor_of: dict[int, int] = {}
    # Survivors that took another record's abstract: written last, once the texts are read.
    moved: list[tuple[_Member, list[_Member], dict]] = []
    writes = StatementQueue()
    try:
        for at in range(0, len(groups), GROUP_CHUNK):
            losers: list[tuple[int, int]] = []
            updates: dict[tuple[str, ...], list[tuple]] = defaultdict(list)
            rows: list[tuple] = []
            for group in groups[at : at + GROUP_CHUNK]:
                members = [library[i] if i in library else new.member(i, batch.pk) for i in group]
                survivor, changed = _merge_group(members, batch.pk)
                for loser in members[1:]:
                    survivor_of[loser.pk] = survivor.pk
                    losers.append((loser.pk, survivor.pk))
                if survivor.abstract_of != survivor.pk:
                    moved.append((survivor, members[1:], changed))
                    continue
                _survivor_update(updates, survivor, changed)
                rows += _merged_rows(review, batch, survivor, members[1:], changed, best, now)
            # Losers pointed at their survivors, in id order: neighbouring rows share pages.
            writes.submit(
                functools.partial(_records_update, names=("duplicate_of_id",), rows=sorted(losers))
            )
            for names, values in updates.items():
                writes.submit(functools.partial(_records_update, names=names, rows=values))
            writes.submit(functools.partial(_candidates_insert, rows=rows))
            del losers, updates, rows
        if moved:
            writes.drain()  # the abstracts are read on the writes' connection
            texts = _abstracts([pk for s, _, _ in moved for pk in (s.pk, s.abstract_of)])
            updates, rows = defaultdict(list), []
            for survivor, losers_, changed in moved:
                changed["abstract"] = texts[survivor.pk]
                _survivor_update(updates, survivor, changed, abstract=texts[survivor.abstract_of])
                rows += _merged_rows(review, batch, survivor, losers_, changed, best, now)
            for names, values in updates.items():
                writes.submit(functools.partial(_records_update, names=names, rows=values))
            writes.submit(functools.partial(_candidates_insert, rows=rows))
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


def _survivor_update(updates: dict, survivor: _Member, changed: dict, abstract=None) -> None:
    """Queue the columns a merge changed (an unchanged abstract written again would be stored
    and compressed again) and, when `raw` refers to one of them ("_same"), the patch that
    copies the old value into raw, so the record's original fields survive the merge."""
    if not changed:
        return
    names = tuple(changed)
    values = [abstract if f == "abstract" else getattr(survivor, f) for f in names]
    patch = _raw_patch(survivor.same, changed)
    if patch is not None:
        names, values = (*names, _RAW_PATCH), [*values, patch]
    updates[names].append((survivor.pk, *values))


def _raw_patch(same: dict, old: dict) -> dict | None:
    """What to set in raw (after dropping its "_same") before fields in `old` change."""
    pinned = {tag for tag, name in same.items() if name in old}
    if not pinned:
        return None
    patch = {tag: old[same[tag]] for tag in pinned}
    if rest := {t: n for t, n in same.items() if t not in pinned}:
        patch["_same"] = rest
    return patch


def _merged_rows(review, batch, survivor, losers, changed, best, now) -> list[tuple]:
    """One merged candidate row per duplicate (loser → survivor): each merge can be undone,
    restoring what the merge changed (the unchanged fields need no copy)."""
    threshold = review.auto_merge_threshold
    rows = []
    for loser in losers:
        score, reason = best.get(loser.pk, (threshold, "clustered with duplicates"))
        a, b = sorted((loser.pk, survivor.pk))
        rows.append((
            review.pk, a, b, score, reason[:120], DuplicateCandidate.Status.MERGED.value, True,
            survivor.pk, _json_text({"survivor": changed, "loser": loser.pk, "repointed": []}),
            batch.pk, now, now,
        ))  # fmt: skip
    return rows


def _abstracts(pks: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    pks = list(dict.fromkeys(pks))
    for at in range(0, len(pks), 2000):
        out.update(
            Record.objects.filter(pk__in=pks[at : at + 2000])
            .order_by()
            .values_list("pk", "abstract")
        )
    return out


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
_RAW_PATCH = "raw patch"  # a name for _records_update: patch raw rather than set it


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
        if name == _RAW_PATCH:
            # raw without its "_same", then the patch's keys (a new "_same" among them):
            # only the few pinned values travel, not each survivor's whole raw.
            sets.append(
                f"raw = (raw - '_same') || {value}::jsonb" if pg
                else f"raw = json_patch(json_remove(raw, '$._same'), {value})"
            )  # fmt: skip
            continue
        if pg and name in _JSON_FIELDS:
            value += "::jsonb"
        elif pg and name == "year":
            value += "::integer"  # a column of NULLs alone would be text
        sets.append(f"{connection.ops.quote_name(name)} = {value}")
    json_at = [i for i, n in enumerate(names, start=1) if n in _JSON_FIELDS or n == _RAW_PATCH]
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
    patch = _raw_patch((record.raw or {}).get("_same") or {}, old)
    if patch is not None:
        raw = dict(record.raw)
        del raw["_same"]
        record.raw = raw | patch


def _fields(r: Record) -> dict:
    return {f: getattr(r, f) for f in MERGE_FIELDS}


def _completeness(r: Record) -> int:
    return _completeness_of(r, len(r.abstract))


def _completeness_of(record, abstract_len: int) -> int:
    """How complete a record is, to choose the survivor of a merge: its filled merge fields
    (dedup.completeness), and a point more for a real abstract. The abstract goes by its
    length, so an import's _Member (which keeps no abstract text) counts as its Record."""
    filled = dedup.completeness({f: getattr(record, f) for f in _SCALAR_FIELDS})
    return filled + (abstract_len > 0) + (abstract_len > 200)


def _merged_value(field: str, mine, theirs):
    """The survivor's value of a merge field (not the abstract) once a duplicate's is taken
    in: an empty field filled, more authors, the union of keywords; nothing else the survivor
    has is overwritten."""
    if theirs in _EMPTY:
        return mine
    if mine in _EMPTY:
        return theirs
    if field == "authors" and len(theirs) > len(mine):
        return theirs
    if field == "keywords":
        return list(dict.fromkeys([*mine, *theirs]))
    return mine


def _takes_abstract(mine: int, theirs: int) -> bool:
    """Whether the survivor takes the duplicate's abstract, by their lengths: when it has
    none, or the duplicate's is clearly longer (not a reworded copy of the same length)."""
    return theirs > 0 and (mine == 0 or theirs > mine * 1.2)


def _merge_fields(survivor: Record, loser: Record) -> None:
    """Fill the survivor from the duplicate (the manual merge; imports merge _Members)."""
    for f in _SCALAR_FIELDS:
        setattr(survivor, f, _merged_value(f, getattr(survivor, f), getattr(loser, f)))
    if _takes_abstract(len(survivor.abstract), len(loser.abstract)):
        survivor.abstract = loser.abstract


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
    """Merge the pair; `survivor` (one of the two) is kept, else the more complete record.
    A pair kept as two records is not merged over that decision (the page offering the
    merge may predate it): it is undone first."""
    check(user, candidate.review_id, Action.EDIT_EVIDENCE)
    candidate = (
        DuplicateCandidate.objects.select_for_update(of=("self",))
        .select_related("decided_by")
        .get(pk=candidate.pk)
    )
    if candidate.status == DuplicateCandidate.Status.MERGED:
        raise ValueError("These records are already merged.")
    if candidate.status == DuplicateCandidate.Status.REJECTED:
        who = candidate.decided_by
        who = (who.get_full_name() or who.username) if who else "Someone"
        when = candidate.decided_at
        at = f" on {timezone.localtime(when).strftime('%d %b %Y %H:%M')}" if when else ""
        raise ValueError(
            f"{who} kept these as two records{at}. Nothing was merged: undo that decision "
            "first to merge them."
        )
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
