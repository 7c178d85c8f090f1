import csv
import io

import bibtexparser
import openpyxl
import pytest
import rispy
from django.core.management import call_command

from studies.models import ExtractionField, ExtractionForm, ScreeningDecision
from synthesis import exports, rameses
from synthesis.models import ReviewEvent
from synthesis.selectors_reporting import rameses_facts
from tests.synthesis.reporting_data import build


@pytest.fixture
def data(review, users):
    return build(review, users)


def _csv(resp) -> list[list[str]]:
    body = b"".join(resp.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


@pytest.mark.django_db
def test_cmoc_csv_streamed_one_row_per_cmoc(review, data, client_for):
    resp = client_for("analyst").get(f"/reviews/{review.pk}/reporting/export/cmocs.csv")
    assert resp.status_code == 200 and resp.streaming
    rows = _csv(resp)
    assert rows[0] == exports.CMOC_HEADER
    assert [r[0] for r in rows[1:]] == ["C1", "C2"]
    c1 = dict(zip(rows[0], rows[1], strict=True))
    assert c1["Number of sources"] == "2"
    assert c1["Sources"] == "Mervyn et al. 2019; Smith 2015"
    assert "context: Shared goals (increases)" in c1["Concepts (role: concept (direction))"]
    assert (
        "“Trust grew when partners shared goals.” — Mervyn et al. 2019, p. 1, chars 15–53"
        in c1["Excerpts (quote — source, locator)"]
    )
    c2 = dict(zip(rows[0], rows[2], strict=True))
    assert c2["Relation to prior theory"] == "Refines" and c2["Prior CMOC"] == "C1"
    assert "[contradicts]" in c2["Excerpts (quote — source, locator)"]
    assert ReviewEvent.objects.filter(verb="export.download", summary="cmocs.csv").exists()


@pytest.mark.django_db
def test_viewers_cannot_export(review, data, client_for):
    c = client_for("viewer")
    assert c.get(f"/reviews/{review.pk}/reporting/export/cmocs.csv").status_code == 403
    assert c.get(f"/reviews/{review.pk}/reporting/included.ris").status_code == 403
    assert c.get(f"/reviews/{review.pk}/reporting/").status_code == 200
    assert (
        client_for("outsider").get(f"/reviews/{review.pk}/reporting/export/cmocs.csv").status_code
        == 404
    )
    assert (
        client_for("analyst").get(f"/reviews/{review.pk}/reporting/export/nope.csv").status_code
        == 404
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, header_start",
    [
        ("study-cmocs", exports.STUDY_CMOC_HEADER),
        ("decisions", exports.DECISION_HEADER),
        ("agreement", exports.AGREEMENT_HEADER),
    ],
)
def test_xlsx_opens_with_right_columns(name, header_start, review, data, client_for):
    resp = client_for("analyst").get(f"/reviews/{review.pk}/reporting/export/{name}.xlsx")
    assert resp.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(resp.streaming_content)), read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert list(rows[0]) == header_start
    assert len(rows) >= 2


@pytest.mark.django_db
def test_characteristics_consensus_and_disagreement(review, data, users):
    table = exports.characteristics_table(review)
    rows = {r[0]: dict(zip(table.header, r, strict=True)) for r in table.rows}
    assert rows["Mervyn et al. 2019"]["Country"] == "UK | England"
    assert rows["Mervyn et al. 2019"]["Sector"] == "Health; Social care"
    assert rows["Smith 2015"]["Country"] == "Canada"


@pytest.mark.django_db
def test_study_cmoc_table(review, data):
    rows = list(exports.study_cmoc_rows(review))
    assert [(r[0], r[2]) for r in rows] == [
        ("Interview P1", "C2"),
        ("Mervyn et al. 2019", "C1"),
        ("Smith 2015", "C1"),
    ]


@pytest.mark.django_db
def test_decisions_export_respects_blinding(review, data, users, client_for):
    """Download and command apply the screening pages' blinding rule: a lone vote on a
    dual-screened record never leaks, in CSV or XLSX."""
    review.dual_fraction = 1
    review.save()
    r3 = data["records"][3].pk  # only reviewer voted on r3
    as_reviewer2 = list(exports.decisions_table(review, user=users["reviewer2"]).rows)
    voters = {(r[0], r[5]) for r in as_reviewer2}
    assert (r3, "reviewer") not in voters
    assert (data["records"][1].pk, "reviewer") in voters  # both voted
    everything = list(exports.decisions_table(review, user=None).rows)
    assert len(everything) == ScreeningDecision.objects.count() > len(as_reviewer2)
    c = client_for("reviewer2")
    body = b"".join(c.get(f"/reviews/{review.pk}/reporting/export/decisions.csv").streaming_content)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))[1:]
    assert {(int(r[0]), r[5]) for r in rows} == voters
    assert not [r for r in rows if int(r[0]) == r3 and r[5] == "reviewer"]
    xlsx = c.get(f"/reviews/{review.pk}/reporting/export/decisions.xlsx")
    ws = openpyxl.load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).worksheets[0]
    assert {(r[0], r[5]) for r in ws.iter_rows(min_row=2, values_only=True)} == voters
    # As an analyst who screened nothing: only records with both votes at a stage.
    as_analyst = {r[0] for r in exports.decisions_table(review, user=users["analyst"]).rows}
    assert as_analyst == {data["records"][i].pk for i in (1, 4, 6)}


@pytest.mark.django_db
def test_agreement_report(review, data):
    rows = exports.agreement_rows(review)
    ta = [r for r in rows if r[0] == "Title and abstract"]
    # r1 include/include, r4 include/exclude, r6 exclude/include: po 1/3, pe 5/9, κ = -0.5
    assert ta == [
        [
            "Title and abstract", "reviewer", "reviewer2", 3, 1, 33.3, -0.5, ta[0][7], -0.333,
            ta[0][9], "as include",
        ]
    ]  # fmt: skip
    assert ta[0][7].startswith("-") and " to " in ta[0][7]
    assert rows == [r for r in rows if r[0] != "Full text"]  # one voter at full text: no pair


@pytest.mark.django_db
def test_ris_and_bibtex_of_included_studies(review, data, client_for):
    c = client_for("analyst")
    ris = c.get(f"/reviews/{review.pk}/reporting/included.ris").content.decode()
    entries = rispy.loads(ris)
    assert sorted(e["title"] for e in entries) == [
        "Record 1 on collaboration",
        "Record 10 on collaboration",
    ]
    bib = c.get(f"/reviews/{review.pk}/reporting/included.bib").content.decode()
    lib = bibtexparser.parse_string(bib)
    assert len(lib.entries) == 2 and not lib.failed_blocks
    assert {e["doi"] for e in lib.entries} == {"10.1000/r1", "10.1000/r10"}


@pytest.mark.django_db
def test_commands_match_downloads(review, data, client_for, tmp_path):
    out = tmp_path / "cmocs.csv"
    call_command("export_cmocs", "--review", str(review.pk), "--output", str(out))
    download = b"".join(
        client_for("analyst")
        .get(f"/reviews/{review.pk}/reporting/export/cmocs.csv")
        .streaming_content
    )
    assert out.read_bytes() == download
    xlsx = tmp_path / "chars.xlsx"
    call_command(
        "export_characteristics",
        "--review",
        str(review.pk),
        "--format",
        "xlsx",
        "--output",
        str(xlsx),
    )
    assert openpyxl.load_workbook(xlsx).worksheets[0]["A1"].value == "Study"
    dec = tmp_path / "dec.csv"
    call_command(
        "export_decisions", "--review", str(review.pk), "--output", str(dec), "--user", "reviewer2"
    )
    assert "Record id" in dec.read_text(encoding="utf-8-sig")
    for fmt in ("csv", "svg", "png", "prisma2020"):
        target = tmp_path / f"prisma.{fmt}"
        call_command(
            "export_prisma", "--review", str(review.pk), "--format", fmt, "--output", str(target)
        )
        assert target.stat().st_size > 50
    assert "data,node,box" in (tmp_path / "prisma.prisma2020").read_text()


@pytest.mark.django_db
def test_command_refuses_viewer(review, data):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("export_cmocs", "--review", str(review.pk), "--user", "viewer")


@pytest.mark.django_db
def test_rameses_prefilled(review, data, client_for):
    facts = rameses_facts(review=review)
    items = {i["item"]: i for i in rameses.checklist("rameses", facts)}
    assert len(items) == 19 and len(rameses.checklist("rameses2", facts)) == 20
    assert items[8]["reported"] == "pre-filled from data" and "MEDLINE" in items[8]["evidence"]
    assert "6 screened" in items[12]["evidence"]
    assert "1 of 2 CMOCs supported" in items[14]["evidence"]
    assert items[19]["reported"] == "to write"
    c = client_for("analyst")
    assert c.get(f"/reviews/{review.pk}/reporting/rameses/").status_code == 200
    assert c.get(f"/reviews/{review.pk}/reporting/rameses/rameses2/").status_code == 200
    csv_body = c.get(f"/reviews/{review.pk}/reporting/rameses/rameses.csv").content.decode()
    assert csv_body.startswith("Item,Section,Topic,What to report,Reported,Evidence,Where")


@pytest.mark.django_db
def test_cmoc_tables_for_one_study(review, data, client_for):
    study_b = data["studies"][1]  # Smith 2015: evidence for C1 only
    c = client_for("analyst")
    url = f"/reviews/{review.pk}/reporting/export/cmocs.csv?study={study_b.pk}"
    resp = c.get(url)
    assert f"cmocs-review-{review.pk}-study-{study_b.pk}.csv" in resp["Content-Disposition"]
    assert [r[0] for r in _csv(resp)[1:]] == ["C1"]
    rows = _csv(c.get(f"/reviews/{review.pk}/reporting/export/study-cmocs.csv?study={study_b.pk}"))
    assert [(r[0], r[2]) for r in rows[1:]] == [("Smith 2015", "C1")]
    xlsx = c.get(f"/reviews/{review.pk}/reporting/export/cmocs.xlsx?study={study_b.pk}")
    assert xlsx.status_code == 200  # one study's table is small: written during the request
    for bad in ("decisions.csv?study=1", "cmocs.csv?study=abc", "cmocs.csv?study=999999999"):
        assert c.get(f"/reviews/{review.pk}/reporting/export/{bad}").status_code == 404
    page = c.get(f"/reviews/{review.pk}/studies/{study_b.pk}/").content.decode()
    assert f"export/cmocs.csv?study={study_b.pk}" in page
    viewer_page = client_for("viewer").get(f"/reviews/{review.pk}/studies/{study_b.pk}/")
    assert "export/cmocs.csv" not in viewer_page.content.decode()


@pytest.mark.django_db
def test_agreement_report_with_three_reviewers_has_an_all_pairs_row(review, data, users):
    ta = data["stages"][0]
    for i, decision in ((1, "include"), (4, "exclude")):
        ScreeningDecision.objects.create(
            record=data["records"][i], stage=ta, reviewer=users["owner"], decision=decision
        )
    rows = [r for r in exports.agreement_rows(review) if r[0] == "Title and abstract"]
    assert [(r[1], r[2], r[3], r[4]) for r in rows] == [
        ("owner", "reviewer", 2, 1),  # r1 agree, r4 include vs exclude
        ("owner", "reviewer2", 2, 2),
        ("reviewer", "reviewer2", 3, 1),
        ("All pairs", "", 7, 4),
    ]
    assert rows[-1][5] == round(100 * 4 / 7, 1)
    facts = rameses_facts(review=review)
    assert "All pairs" not in facts["agreement"] and "owner vs reviewer2" in facts["agreement"]


@pytest.mark.django_db
def test_cmoc_rows_are_the_same_in_chunks_of_one(review, data, monkeypatch):
    """Keyset chunks and their id sets: one CMOC per round trip gives the same table."""
    whole = list(exports.cmoc_rows(review))
    monkeypatch.setattr(exports, "CHUNK", 1)
    assert list(exports.cmoc_rows(review)) == whole
    assert [r[0] for r in whole] == ["C1", "C2"] and whole[0][6].count(";") == 2


@pytest.mark.django_db
def test_characteristics_columns_have_distinct_names(review, data):
    """The seed's extraction form has a "Study" field of its own: the export had two "Study"
    columns, which a spreadsheet reader cannot tell apart."""
    form = ExtractionForm.objects.get(review=review, is_current=True)
    ExtractionField.objects.create(form=form, key="study", label="Study", order=0)
    ExtractionField.objects.create(form=form, key="study2", label="study", order=0)
    table = exports.characteristics_table(review)
    assert len({h.casefold() for h in table.header}) == len(table.header)
    assert table.header[:7] == [
        "Study", "Title", "Year", "Kind", "Phase", "Study (extraction form)", "study (study2)",
    ]  # fmt: skip


@pytest.mark.django_db
def test_xlsx_keeps_text_that_looks_like_a_formula(review, users, client_for, tmp_path):
    from cmoc.services import coding as coding_svc

    coding_svc.cmoc_create(user=users["reviewer"], review=review, code="F1",
                           statement='=HYPERLINK("http://example.org","click")',
                           outcome="=1+1")  # fmt: skip
    path = tmp_path / "cmocs.xlsx"
    exports.xlsx_write([exports.cmoc_table(review)], str(path))
    ws = openpyxl.load_workbook(path).worksheets[0]
    row = [c.value for c in ws[2]]
    assert row[1] == '=HYPERLINK("http://example.org","click")' and row[5] == "=1+1"
    assert all(c.data_type == "s" for c in ws[2] if c.value is not None and c.column in (2, 6))
