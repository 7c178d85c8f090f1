"""Identification services, command and pages: atomic imports, dedup, merge/undo, permissions."""

import json
from pathlib import Path
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.http import Http404
from django.urls import reverse

from studies import selectors_identification as sel
from studies.importers import ImportFormatError
from studies.models import DuplicateCandidate, ImportBatch, Record, Search
from studies.selectors_identification import prisma_identification
from studies.services import identification as svc

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "samples"


def ris(*titles, doi_prefix="10.5555/x"):
    return "".join(
        f"TY  - JOUR\nTI  - {t}\nAU  - Author{i}, A\nPY  - 2020\nT2  - Journal {i}\nDO  - {doi_prefix}{i}\nER  - \n"
        for i, t in enumerate(titles)
    ).encode()


@pytest.fixture
def search(review, users):
    return svc.search_create(user=users["reviewer"], review=review, source="MEDLINE (Ovid)",
                             kind=Search.Kind.DATABASE, reported_hits=3)  # fmt: skip


def do_import(user, review, search, data, filename="export.ris", **kw):
    batch = svc.import_batch_create(user=user, review=review, search=search, data=data,
                                    filename=filename, **kw)  # fmt: skip
    return svc.import_run(user=user, batch=batch)


def test_import_creates_records_sources_and_merges_duplicates(review, users, search):
    user = users["reviewer"]
    do_import(user, review, search, (SAMPLES / "ovid_medline.ris").read_bytes())
    other = svc.search_create(user=user, review=review, source="PubMed", kind="database")
    batch = do_import(user, review, other, (SAMPLES / "pubmed.nbib").read_bytes(), "pubmed.nbib")
    assert (batch.parsed_count, batch.created_count, batch.duplicate_count) == (2, 1, 1)
    merged = Record.objects.get(review=review, duplicate_of__isnull=False)
    survivor = merged.duplicate_of
    assert survivor.pmid == "31010000" and survivor.keywords  # kept and completed
    assert {merged.batch.search_id, survivor.batch.search_id} == {search.pk, other.pk}
    assert sel.record_sources(review=review, record_ids=[merged.pk, survivor.pk]) == {
        merged.pk: ["PubMed"], survivor.pk: ["MEDLINE (Ovid)"]
    }  # fmt: skip
    web = svc.search_create(user=user, review=review, source="Google Scholar", kind="website")
    do_import(user, review, web, (SAMPLES / "endnote.xml").read_bytes(), "lib.xml")
    p = prisma_identification(review)
    assert p["identified"] == {"databases": 5, "other": 2, "total": 7}
    assert p["duplicates_removed"] == 2 and p["records_screened"] == 5


def test_malformed_file_writes_nothing_and_keeps_error(review, users, search):
    data = ris("Good one", "Good two") + b"@@@"
    bad = b'<?xml version="1.0"?><xml><records><record><titles><title>x</title></titles></record><record>'
    with pytest.raises(ImportFormatError):
        do_import(users["reviewer"], review, search, bad, "bad.xml")
    batch = ImportBatch.objects.get(filename="bad.xml")
    assert batch.status == ImportBatch.Status.FAILED and "bad.xml" in batch.error
    assert Record.objects.count() == 0
    assert do_import(users["reviewer"], review, search, data).parsed_count == 2


def test_failure_midway_rolls_back_the_batch(review, users, search):
    with (
        mock.patch.object(svc, "_apply_pairs", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        do_import(users["reviewer"], review, search, ris("A first title here", "A second title"))
    assert Record.objects.count() == 0
    assert ImportBatch.objects.get().status == ImportBatch.Status.FAILED


def test_candidate_confirm_reject_undo(review, users, search):
    user = users["reviewer"]
    review.auto_merge_threshold = 0.999
    review.save()
    do_import(
        user,
        review,
        search,
        b"TY  - JOUR\nTI  - Trust in university hospital partnerships\nAU  - Smith, J\nPY  - 2020\nT2  - J Health Org\nVL  - 3\nER  - \n",
    )
    do_import(
        user,
        review,
        search,
        b"TY  - JOUR\nTI  - Trust in university-hospital partnership.\nAU  - Smith, John\nPY  - 2020\nAB  - An abstract.\nER  - \n",
        "second.ris",
    )
    cand = DuplicateCandidate.objects.get(status="pending")
    a, b = cand.record_a, cand.record_b
    svc.duplicate_confirm(user=user, candidate=cand, survivor=a)
    a.refresh_from_db()
    b.refresh_from_db()
    assert b.duplicate_of == a and a.abstract == "An abstract."
    svc.duplicate_undo(user=user, candidate=cand)
    a.refresh_from_db()
    b.refresh_from_db()
    assert b.duplicate_of is None and a.abstract == ""
    cand.refresh_from_db()
    assert cand.status == "pending"
    svc.duplicate_reject(user=user, candidate=cand)
    assert DuplicateCandidate.objects.get(pk=cand.pk).status == "rejected"
    with pytest.raises(PermissionDenied):
        svc.duplicate_undo(user=users["viewer"], candidate=cand)
    with pytest.raises(Http404):
        svc.duplicate_undo(user=users["outsider"], candidate=cand)


def test_auto_merge_can_be_undone(review, users, search):
    user = users["reviewer"]
    do_import(user, review, search, ris("Knowledge brokering in mental health services research"))
    do_import(
        user, review, search, ris("Knowledge brokering in mental health services research"), "b.ris"
    )
    cand = DuplicateCandidate.objects.get(status="merged", auto=True)
    svc.duplicate_undo(user=user, candidate=cand)
    assert Record.objects.filter(duplicate_of__isnull=False).count() == 0


def test_permissions(review, users, search):
    with pytest.raises(PermissionDenied):
        svc.search_create(user=users["analyst"], review=review, source="X")
    with pytest.raises(PermissionDenied):
        svc.import_batch_create(
            user=users["viewer"], review=review, search=search, data=b"x", filename="x"
        )


def test_command_json_lines_and_exit_code(review, users, search, capsys, tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("nothing to see")
    with pytest.raises(SystemExit) as exc:
        call_command("import_records", "--review", str(review.pk), str(SAMPLES / "scopus.csv"),
                     str(SAMPLES / "wos_savedrecs.txt"), str(bad))  # fmt: skip
    assert exc.value.code == 1
    lines = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]
    assert [x["format"] for x in lines[:2]] == ["csv", "wos"]
    assert lines[1]["duplicates"] == 1 and lines[2]["error"].startswith("notes.txt")
    assert Search.objects.filter(review=review, source="scopus").exists()
    call_command("import_records", "--review", str(review.pk), "--search", str(search.pk),
                 str(SAMPLES / "pubmed.nbib"))  # fmt: skip


# --- pages --------------------------------------------------------------------------------------


def test_pages_roles_and_flow(review, users, search, client_for):
    url = reverse("identification-searches", args=[review.pk])
    assert client_for("outsider").get(url).status_code == 404
    assert client_for("viewer").get(url).status_code == 200
    assert (
        client_for("viewer").get(reverse("identification-upload", args=[review.pk])).status_code
        == 403
    )
    c = client_for("reviewer")
    with (SAMPLES / "ovid_medline.ris").open("rb") as f:
        r = c.post(reverse("identification-upload", args=[review.pk]),
                   {"search": search.pk, "file": f, "format": "auto"})  # fmt: skip
    batch = ImportBatch.objects.get()
    assert r.status_code == 302 and Record.objects.count() == 0
    page = c.get(reverse("identification-batch", args=[review.pk, batch.pk]))
    assert b"Import 3 records" in page.content
    c.post(reverse("identification-batch-confirm", args=[review.pk, batch.pk]))
    assert Record.objects.count() == 3
    assert c.get(reverse("identification-duplicates", args=[review.pk])).status_code == 200


def test_bad_form_input_gives_errors_not_500(review, users, search, client_for):
    c = client_for("reviewer")
    r = c.post(
        reverse("identification-search-new", args=[review.pk]), {"source": "", "kind": "nope"}
    )
    assert r.status_code == 200 and b"errorlist" in r.content
    r = c.post(reverse("identification-upload", args=[review.pk]),
               {"search": search.pk, "format": "csv", "columns": "no equals sign"})  # fmt: skip
    assert r.status_code == 200 and b"errorlist" in r.content


def test_duplicates_page_query_count_constant(
    review, users, search, client_for, django_assert_max_num_queries
):
    user = users["reviewer"]
    review.auto_merge_threshold = 0.999
    review.save()

    def add(n, offset):
        titles = [
            f"Partnership study number {i} about trust and reciprocity"
            for i in range(offset, offset + n)
        ]
        data = b"".join(
            f"TY  - JOUR\nTI  - {t}\nAU  - Smith, J\nPY  - 2020\nER  - \n".encode() for t in titles
        )
        do_import(user, review, search, data, f"a{offset}.ris")
        data = b"".join(
            f"TY  - JOUR\nTI  - {t}.\nAU  - Smith, John\nPY  - 2020\nER  - \n".encode()
            for t in titles
        )
        do_import(user, review, search, data, f"b{offset}.ris")

    c = client_for("reviewer")
    url = reverse("identification-duplicates", args=[review.pk])
    add(2, 0)
    with django_assert_max_num_queries(12):
        c.get(url)
    add(10, 100)
    with django_assert_max_num_queries(12):
        r = c.get(url)
    assert r.context["total"] > 2
    with django_assert_max_num_queries(12):
        c.get(reverse("identification-searches", args=[review.pk]))


def test_failing_record_mid_stream_rolls_back_chunks_already_written(
    review, users, search, monkeypatch
):
    from studies.importers import ris as ris_module

    monkeypatch.setattr(svc, "BULK", 2)  # chunks of two: four records are written first
    real = ris_module.to_record

    def to_record(raw, line):
        if raw.get("TI") == "Title number 5":
            raise ImportFormatError("cannot read this record", line=line)
        return real(raw, line)

    monkeypatch.setattr(ris_module, "to_record", to_record)
    data = ris(*[f"Title number {i}" for i in range(8)])
    with pytest.raises(ImportFormatError, match="export.ris"):
        do_import(users["reviewer"], review, search, data)
    assert Record.objects.count() == 0
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.FAILED and "line 36" in batch.error
    monkeypatch.setattr(ris_module, "to_record", real)
    assert do_import(users["reviewer"], review, search, data).parsed_count == 8
    assert Record.objects.filter(batch__search=search).count() == 8


def test_raw_stored_leanly_and_expanded_back(review, users, search):
    data = (
        b"TY  - JOUR\nTI  - A <i>lean</i> title\nAB  - The abstract, stored once.\n"
        b"AU  - Doe, J\nAU  - Roe, R\nPY  - 2020\nM2  - custom\nER  - \n"
    )
    do_import(users["reviewer"], review, search, data)
    record = Record.objects.get()
    assert "AB" not in record.raw and record.raw["_same"]["AB"] == "abstract"
    assert record.raw["TI"] == "A <i>lean</i> title"  # differs from the cleaned title: kept
    assert record.original_fields() == {
        "TY": "JOUR", "TI": "A <i>lean</i> title", "AB": "The abstract, stored once.",
        "AU": ["Doe, J", "Roe, R"], "PY": "2020", "M2": "custom",
    }  # fmt: skip


def test_merge_keeps_the_survivors_original_fields(review, users, search):
    user = users["reviewer"]
    short = b"TY  - JOUR\nTI  - Realist synthesis of partnerships\nAU  - Doe, J\nPY  - 2020\nDO  - 10.1/abc\nAB  - Short.\nER  - \n"
    long_ = b"TY  - JOUR\nTI  - Realist synthesis of partnerships\nAU  - Doe, J\nPY  - 2020\nDO  - 10.1/abc\nAB  - A much longer abstract that replaces the short one on merge.\nER  - \n"
    do_import(user, review, search, short, "a.ris")
    do_import(user, review, search, long_, "b.ris")
    survivor = Record.objects.get(duplicate_of__isnull=True)
    assert survivor.abstract.startswith("A much longer")
    assert survivor.original_fields()["AB"] == "Short."


def test_csv_columns_mapped_on_the_preview_with_selects(review, users, search, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = client_for("reviewer")
    csv = b"Article Name;Writers;Yr;Notes\nA study of trust in partnerships;Doe, J.;2020;x\n"
    r = c.post(reverse("identification-upload", args=[review.pk]),
               {"search": search.pk, "format": "auto",
                "file": SimpleUploadedFile("mine.csv", csv)})  # fmt: skip
    batch = ImportBatch.objects.get()
    page = c.get(r.url).content.decode()
    assert "cannot be imported" in page and 'name="field"' in page  # unknown headers: map them
    assert page.count('<option value="" selected>') == 4
    # the viewer sees the mapping but may not change it
    assert client_for("viewer").post(
        reverse("identification-batch-columns", args=[review.pk, batch.pk]),
        {"header": ["Article Name"], "field": ["title"]},
    ).status_code in (403, 404)
    c = client_for("reviewer")
    c.post(reverse("identification-batch-columns", args=[review.pk, batch.pk]),
           {"header": ["Article Name", "Writers", "Yr", "Notes"],
            "field": ["title", "authors", "year", ""]})  # fmt: skip
    batch.refresh_from_db()
    assert batch.options["columns"]["Notes"] == ""
    page = c.get(reverse("identification-batch", args=[review.pk, batch.pk])).content.decode()
    assert 'id="preview-count">1<' in page and "A study of trust in partnerships" in page
    assert '<option value="title" selected>' in page
    # an unknown field is refused, the mapping is unchanged
    c.post(reverse("identification-batch-columns", args=[review.pk, batch.pk]),
           {"header": ["Article Name"], "field": ["colour"]})  # fmt: skip
    batch.refresh_from_db()
    assert batch.options["columns"]["Article Name"] == "title"
    c.post(reverse("identification-batch-confirm", args=[review.pk, batch.pk]))
    record = Record.objects.get()
    assert (record.title, record.authors, record.year) == (
        "A study of trust in partnerships",
        ["Doe, J."],
        2020,
    )
    assert record.original_fields()["Notes"] == "x"


def test_scopus_and_embase_headers_detected():
    from studies.importers.tabular import describe_columns

    scopus = describe_columns(
        "Authors,Title,Year,Source title,DOI,EID\nDoe J.,T,2020,J,10.1/x,2-s\n"
    )
    assert scopus["source"] == "Scopus"
    assert {c["header"]: c["field"] for c in scopus["columns"]} == {
        "Authors": "authors", "Title": "title", "Year": "year", "Source title": "journal",
        "DOI": "doi", "EID": "",
    }  # fmt: skip
    embase = describe_columns("Title,Author Names,Emtree Medical Index Terms\nT,Doe J.,x\n")
    assert embase["source"] == "Embase"
    # a user's choice wins, and "" leaves a known column out
    mine = describe_columns(
        "Title,Abstract\nT,A\n", {"columns": {"Abstract": "", "Title": "title"}}
    )
    assert [c["field"] for c in mine["columns"]] == ["title", ""]


def test_special_characters_survive_the_bulk_insert(review, users, search):
    """Backslashes, tabs, newlines, quotes and non-ASCII text through the hand-written insert
    (COPY text format on PostgreSQL)."""
    data = (
        "TY  - JOUR\nTI  - Naïve \\N C:\\\\path 'quoted' \"double\" 研究\n"
        "AB  - First line\tthen a tab\nN2  - unused\nM2  - back\\slash\tand tab\nPY  - 2020\n"
        "ER  - \n"
    ).encode()
    do_import(users["reviewer"], review, search, data)
    r = Record.objects.get()
    assert r.title == "Naïve \\N C:\\\\path 'quoted' \"double\" 研究"
    assert r.abstract == "First line then a tab"
    assert r.original_fields()["M2"] == "back\\slash\tand tab"
    assert r.year == 2020 and r.authors == [] and r.created_at is not None


def test_large_import_refreshes_planner_statistics_after_commit(
    review, users, search, monkeypatch, django_capture_on_commit_callbacks
):
    """Statistics are refreshed once the import is committed (a queued task, run inline
    here), and only for large imports."""
    from django.db import connection

    calls = []
    real = svc._statistics_refresh
    monkeypatch.setattr(
        svc, "_statistics_refresh", lambda added: calls.append(added) or real(added=added)
    )
    monkeypatch.setattr(svc, "ANALYZE_AFTER", 3)
    user = users["reviewer"]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        do_import(user, review, search, ris("One paper here", "Two papers there"))
    assert calls == [] and callbacks == []  # 2 records: below the limit
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        do_import(user, review, search, ris("Alpha study", "Beta trial", "Gamma review"), "b.ris")
        assert calls == []  # not inside the import's transaction
    assert calls == [3] and len(callbacks) == 1
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'studies_record'")
            assert cursor.fetchone()[0] > 0
        else:
            cursor.execute(
                "SELECT count(*) FROM pg_stats WHERE tablename = 'studies_record' "
                "AND attname = 'title'"
            )
            assert cursor.fetchone()[0] == 1


def _pair_file(n: int) -> bytes:
    """n papers, each exported twice: the second copy adds keywords, a longer abstract and
    (for even papers) the year the first copy lacks."""
    out = []
    for i in range(n):
        title = f"Realist evaluation of programme number {i} in primary care settings"
        first = (
            f"TY  - JOUR\nTI  - {title}\nAU  - Doe{i}, J\nDO  - 10.5555/pair{i}\nKW  - realist\n"
        )
        first += ("" if i % 2 == 0 else "PY  - 2019\n") + "AB  - Short.\nER  - \n"
        second = (
            f"TY  - JOUR\nTI  - {title}\nAU  - Doe{i}, J\nDO  - 10.5555/pair{i}\nKW  - context\n"
        )
        second += "PY  - 2019\nAB  - A much longer abstract that the merge keeps instead.\nER  - \n"
        out += [first, second]
    return "".join(out).encode()


def test_merges_written_a_slice_at_a_time_fill_every_survivor(review, users, search, monkeypatch):
    # One group per slice: each slice's writes run while the next slice is worked out.
    monkeypatch.setattr(svc, "GROUP_CHUNK", 1)
    batch = do_import(users["reviewer"], review, search, _pair_file(5))
    assert (batch.parsed_count, batch.duplicate_count) == (10, 5)
    survivors = Record.objects.filter(duplicate_of__isnull=True).order_by("position")
    assert survivors.count() == 5
    for s in survivors:
        assert sorted(s.keywords) == ["context", "realist"]
        assert s.year == 2019 and s.abstract.startswith("A much longer")
        assert Record.objects.filter(duplicate_of=s).count() == 1
    assert DuplicateCandidate.objects.filter(status="merged", auto=True).count() == 5
    # Paper 1's copies are equally complete, so the first survives and took the second's
    # abstract and keyword: undo gives it back its own.
    cand = DuplicateCandidate.objects.get(status="merged", survivor__doi="10.5555/pair1")
    svc.duplicate_undo(user=users["reviewer"], candidate=cand)
    restored = Record.objects.get(pk=cand.survivor_id)
    assert restored.abstract == "Short." and restored.keywords == ["realist"]


def test_a_failing_merge_write_rolls_back_the_whole_import(review, users, search, monkeypatch):
    def broken(cursor, *, rows):
        raise RuntimeError("merge rows refused")

    monkeypatch.setattr(svc, "GROUP_CHUNK", 1)
    monkeypatch.setattr(svc, "_candidates_insert", broken)
    with pytest.raises(RuntimeError, match="merge rows refused"):
        do_import(users["reviewer"], review, search, _pair_file(3))
    assert Record.objects.count() == 0 and DuplicateCandidate.objects.count() == 0
    assert ImportBatch.objects.get().status == ImportBatch.Status.FAILED
