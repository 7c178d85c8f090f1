"""The import's record writer: ids, screening keys and sources written with the rows, errors
from the writer thread roll the import back, live progress visible while the import runs."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studies.models import ImportBatch, Record, Search
from studies.screening_rules import order_seed, screen_hash
from studies.services import identification as svc
from studies.services.record_writer import RecordWriter
from synthesis.jobs import job_progress, job_run
from synthesis.models import Job

pytestmark = pytest.mark.django_db


def ris(n, prefix="Title number"):
    return "".join(
        f"TY  - JOUR\nTI  - {prefix} {i} about partnerships\nAU  - Writer{i}, A\nPY  - 2020\n"
        f"DO  - 10.5555/w{prefix[:3]}{i}\nER  - \n"
        for i in range(n)
    ).encode()


@pytest.fixture
def search(review, users):
    return svc.search_create(user=users["reviewer"], review=review, source="PubMed",
                             kind=Search.Kind.DATABASE)  # fmt: skip


def do_import(user, review, search, data, filename="export.ris"):
    batch = svc.import_batch_create(user=user, review=review, search=search, data=data,
                                    filename=filename)  # fmt: skip
    return svc.import_run(user=user, batch=batch)


def test_keys_and_sources_are_written_with_the_records(review, users, search, monkeypatch):
    monkeypatch.setattr(svc, "BULK", 2)  # several chunks, through the writer's queue
    batch = do_import(users["reviewer"], review, search, ris(7))
    records = list(Record.objects.filter(review=review).order_by("position"))
    assert [r.position for r in records] == list(range(1, 8))
    assert [r.title for r in records] == [f"Title number {i} about partnerships" for i in range(7)]
    ids = [r.pk for r in records]
    assert ids == sorted(ids) and len(set(ids)) == 7
    seed = order_seed(review.dual_seed)
    assert all(r.screen_key == screen_hash(r.pk, seed) for r in records)
    found_by = set(Record.objects.values_list("pk", "batch_id", "batch__search_id"))
    assert found_by == {(pk, batch.pk, search.pk) for pk in ids}


def test_ids_are_never_reused_after_records_are_deleted(review, users, search):
    do_import(users["reviewer"], review, search, ris(3))
    top = Record.objects.order_by("-pk").first().pk
    Record.objects.all().delete()
    do_import(users["reviewer"], review, search, ris(3, prefix="Other title"))
    assert Record.objects.order_by("pk").first().pk > top


def test_duplicates_are_found_between_chunks_and_get_the_written_ids(
    review, users, search, monkeypatch
):
    monkeypatch.setattr(svc, "BULK", 2)
    data = ris(3) + ris(3)  # the same three records twice: merged across chunks
    batch = do_import(users["reviewer"], review, search, data)
    assert (batch.parsed_count, batch.duplicate_count) == (6, 3)
    for loser in Record.objects.filter(duplicate_of__isnull=False):
        assert loser.duplicate_of.title == loser.title
        assert loser.duplicate_of.position < loser.position


def test_an_error_while_writing_rolls_back_everything(review, users, search, monkeypatch):
    monkeypatch.setattr(svc, "BULK", 2)
    name = "_copy" if _is_pg() else "_insert"  # the thread's COPY, or SQLite's inline INSERT
    real = getattr(RecordWriter, name)
    calls = []

    def failing(self, *args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(self, *args)

    monkeypatch.setattr(RecordWriter, name, failing)
    with pytest.raises(RuntimeError, match="disk full"):
        do_import(users["reviewer"], review, search, ris(9))
    assert Record.objects.count() == 0
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.FAILED and "disk full" in batch.error
    monkeypatch.setattr(RecordWriter, name, real)
    assert do_import(users["reviewer"], review, search, ris(9)).parsed_count == 9


def _is_pg():
    from django.db import connection

    return connection.vendor == "postgresql"


def test_progress_is_visible_while_the_import_runs(review, users, search, monkeypatch):
    """The import's transaction hides its row updates until it commits: the pages read the
    job's live progress instead."""
    monkeypatch.setattr(svc, "BULK", 2)
    user = users["reviewer"]
    batch = svc.import_batch_create(user=user, review=review, search=search, data=ris(6),
                                    filename="big.ris")  # fmt: skip
    job = Job.objects.create(review=review, kind="import", func="studies.services."
                             "identification.import_job", params={"batch_id": batch.pk,
                             "user_id": user.pk}, created_by=user)  # fmt: skip
    seen = []
    real = RecordWriter.put

    def put(self, rows):
        real(self, rows)
        # What another process sees now: a fresh instance, no database read (the writer
        # thread owns the connection here).
        seen.append((Job(pk=job.pk, status=Job.Status.RUNNING).live_message,
                     Job(pk=job.pk, status=Job.Status.RUNNING).percent))  # fmt: skip

    monkeypatch.setattr(RecordWriter, "put", put)
    job_run(job.pk)
    assert seen == [("Reading the file", 0), ("Writing records: 2 so far", 25),
                    ("Writing records: 4 so far", 25)]  # fmt: skip
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.percent == 100
    assert not job._live_path().exists()  # cleaned up once the row tells the end
    assert Record.objects.filter(review=review).count() == 6


def test_live_progress_falls_back_to_the_row(review, users):
    job = Job.objects.create(review=review, kind="x", func="x.y", status=Job.Status.RUNNING)
    job_progress(job, progress=1, total=4, message="Reading", store=False)
    fresh = Job.objects.get(pk=job.pk)
    assert (fresh.progress, fresh.live_message, fresh.percent) == (0, "Reading", 25)
    job_progress(job, progress=3, total=4, message="Saving")
    fresh = Job.objects.get(pk=job.pk)
    assert (fresh.progress, fresh.live_message, fresh.percent) == (3, "Saving", 75)
    job._live_path().unlink()
    assert Job.objects.get(pk=job.pk).live_message == "Saving"
    Job.objects.filter(pk=job.pk).update(status=Job.Status.DONE)
    assert Job.objects.get(pk=job.pk).percent == 100


# -- COPY text of a chunk (pure: no database) ----------------------------------------------

_text = st.text(alphabet=st.sampled_from("ab \\\t\n\r\x01\x02é\u2028"), max_size=8)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**6), _text, st.one_of(st.none(), st.integers(1500, 2100)), _text), min_size=1, max_size=5))  # fmt: skip
def test_a_chunk_escaped_at_once_equals_escaping_value_by_value(rows):
    """copy_lines escapes the whole chunk with a few replaces; the reference is copy_text on
    each value. Values holding the marker characters themselves must still come out right."""
    import studies.services.record_writer as rw

    width = len(rw.ROW_COLUMNS)
    full = []
    for pk, text, year, other in rows:
        row = [pk, text, "x", other] + [""] * (width - 4)
        row[rw._YEAR] = rw._NULL if year is None else year
        full.append(tuple(row))
    expected = [
        "\t".join(rw.copy_text(None if i == rw._YEAR and v is rw._NULL else v) for i, v in enumerate(r))
        for r in full
    ]  # fmt: skip
    assert rw.copy_lines(full) == expected


def test_titles_with_copy_special_characters_are_stored_exactly(review, users, search):
    title = "Back\\slash \\N and \x01 control \x02 marks"
    data = f"TY  - JOUR\nTI  - {title}\nPY  - 2020\nER  - \nTY  - JOUR\nTI  - Plain\nER  - \n"
    do_import(users["reviewer"], review, search, data.encode())
    stored = dict(Record.objects.values_list("title", "year"))
    assert stored == {title: 2020, "Plain": None}


def test_record_long_values_are_lz4_compressed_on_postgresql():
    """Migration 0006: the record table's long values use lz4 (≈ 1 s less server CPU on a
    100k import than pglz), when the server has it (Debian's PostgreSQL 15 does)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no per-column compression")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        assert cursor.fetchone()[0] is True
        cursor.execute(
            "SELECT attname, attcompression FROM pg_attribute WHERE attrelid = %s::regclass "
            "AND attname IN ('abstract', 'raw')",
            [Record._meta.db_table],
        )
        assert dict(cursor.fetchall()) == {"abstract": "l", "raw": "l"}


def test_json_text_is_json_and_falls_back_for_what_orjson_refuses():
    import json

    value = {"AU": ["Müller, Jörg", "李, 华"], "N1": 'a "quoted" note\\n', "n": [1, None]}
    assert json.loads(svc._json_text(value)) == value
    # a lone surrogate: orjson refuses it, the json module still writes it
    assert json.loads(svc._json_text(["\ud800x"])) == ["\ud800x"]
