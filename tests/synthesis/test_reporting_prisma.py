import csv
import io

import pytest
from lxml import etree

from studies.models import ScreeningDecision
from synthesis import prisma
from synthesis.selectors_reporting import prisma_counts
from tests.synthesis.reporting_data import EXPECTED_PRISMA, build


def test_flow_totals_and_checks_pure():
    f = prisma.flow(
        {
            "databases": {"MEDLINE": 6, "HMIC": 4},
            "duplicates": 2,
            "records_screened": 8,
            "records_excluded": 3,
            "dbr_sought": 5,
            "dbr_not_retrieved": 1,
            "dbr_assessed": 4,
            "dbr_excluded": {"Wrong population": 1, "No CMO data": 1},
            "dbr_included": 2,
            "new_studies": 2,
            "new_reports": 2,
        }  # fmt: skip
    )
    assert f["dbr_identified"] == 10
    assert f["dbr_excluded_total"] == 2
    assert f.ok, [c.message for c in f.checks if not c.ok]


def test_flow_explains_an_inconsistency():
    f = prisma.flow({"databases": {"A": 10}, "duplicates": 1, "records_screened": 7})
    bad = [c for c in f.checks if not c.ok]
    assert bad and "expected 9, found 7" in bad[0].message


@pytest.mark.django_db
def test_prisma_counts_match_hand_counts(review, users):
    build(review, users)
    counts = prisma_counts(review=review)
    f = prisma.flow(counts)
    for key, expected in EXPECTED_PRISMA.items():
        assert f[key] == expected, key
    assert f.ok, [c.message for c in f.checks if not c.ok]
    # The other-methods records excluded at title/abstract are explained, not hidden.
    assert any("no box" in c.message for c in f.checks)


@pytest.mark.django_db
def test_prisma_check_flags_fulltext_without_title_abstract_include(review, users):
    data = build(review, users)
    r3 = data["records"][3]  # excluded at title/abstract
    ScreeningDecision.objects.create(
        record=r3, stage=data["stages"][1], reviewer=users["reviewer"], decision="include"
    )
    f = prisma.flow(prisma_counts(review=review))
    failed = [c for c in f.checks if not c.ok]
    assert any(c.label.startswith("Reports assessed (databases)") for c in failed)


@pytest.mark.django_db
def test_svg_and_prisma2020_csv(review, users):
    build(review, users)
    f = prisma.flow(prisma_counts(review=review))
    svg = prisma.svg(f)
    root = etree.fromstring(svg.encode())
    text = "".join(root.itertext())
    assert "Records screened (n = 6)" in text
    assert "Wrong setting (n = 1)" in text
    rows = list(csv.DictReader(io.StringIO(prisma.prisma2020_csv(f))))
    assert list(rows[0]) == [
        "data",
        "node",
        "box",
        "description",
        "boxtext",
        "tooltips",
        "url",
        "n",
    ]
    by = {r["data"]: r["n"] for r in rows if r["data"] != "NA"}
    assert by["database_results"] == "10"
    assert by["duplicates"] == "2"
    assert by["excluded_automatic"] == "1"
    assert by["dbr_excluded"] == "No CMO data, 1; Wrong setting, 1"
    assert by["new_studies"] == "2"


@pytest.mark.django_db
def test_prisma_page_and_downloads(review, users, client_for):
    build(review, users)
    c = client_for("viewer")
    page = c.get(f"/reviews/{review.pk}/reporting/prisma/")
    assert page.status_code == 200 and b"<svg" in page.content
    assert c.get(f"/reviews/{review.pk}/reporting/prisma.svg").status_code == 403
    c = client_for("analyst")
    png = c.get(f"/reviews/{review.pk}/reporting/prisma.png")
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    svg = c.get(f"/reviews/{review.pk}/reporting/prisma.svg")
    assert svg["Content-Type"] == "image/svg+xml"
    assert c.get(f"/reviews/{review.pk}/reporting/prisma.prisma2020").status_code == 200
    assert c.get(f"/reviews/{review.pk}/reporting/prisma.gif").status_code == 404
    assert client_for("outsider").get(f"/reviews/{review.pk}/reporting/prisma/").status_code == 404


@pytest.mark.django_db
def test_prisma_counts_as_xlsx_download_and_command(review, users, client_for, tmp_path):
    import openpyxl
    from django.core.management import call_command

    build(review, users)
    resp = client_for("analyst").get(f"/reviews/{review.pk}/reporting/prisma.xlsx")
    assert resp.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(resp.content), read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert rows[0] == ("Box", "Detail", "n")
    cells = {(box, detail or ""): n for box, detail, n in rows[1:]}
    assert cells[("records_screened", "")] == EXPECTED_PRISMA["records_screened"]
    assert cells[("databases", "MEDLINE")] == 6
    assert cells[("dbr_excluded", "Wrong setting")] == 1
    out = tmp_path / "prisma.xlsx"
    call_command(
        "export_prisma", "--review", str(review.pk), "--format", "xlsx", "--output", str(out)
    )
    assert out.read_bytes()[:2] == b"PK"


def test_passed_study_and_report_checks_read_as_facts():
    """Under a tick the page said "0 included reports are not yet grouped under a study." and
    "71 studies but 71 reports.", which read like faults."""
    ok = {c.label: c for c in prisma.flow({"new_studies": 3, "new_reports": 4}).checks}
    assert ok["Every included report belongs to a study"].ok
    assert ok["Every included report belongs to a study"].message == (
        "Every included report belongs to a study."
    )
    assert ok["Each included study has at least one report"].message == (
        "Each included study has at least one report: 3 studies, 4 reports."
    )
    bad = {
        c.label: c
        for c in prisma.flow(
            {"new_studies": 5, "new_reports": 4, "reports_without_study": 2}
        ).checks
    }
    assert not bad["Every included report belongs to a study"].ok
    assert bad["Every included report belongs to a study"].message == (
        "2 included reports are not yet grouped under a study."
    )
    assert bad["Each included study has at least one report"].message == (
        "5 studies but only 4 reports: some included studies have no report."
    )


@pytest.mark.django_db
def test_prisma_names_database_searches_never_imported(review, users):
    from studies.services import identification as id_svc

    build(review, users)
    assert prisma.flow(prisma_counts(review=review)).ok
    u = users["owner"]
    id_svc.search_create(user=u, review=review, source="PsycINFO", kind="database",
                         reported_hits=2144)  # fmt: skip
    id_svc.search_create(
        user=u, review=review, source="Google Scholar", kind="other", reported_hits=426000
    )  # not a database: often only skimmed
    id_svc.search_create(user=u, review=review, source="Scopus", kind="database")  # no hits
    f = prisma.flow(prisma_counts(review=review))
    failed = [c for c in f.checks if not c.ok]
    assert len(failed) == 1
    assert "PsycINFO (2,144 reported)" in failed[0].message
    assert "Google Scholar" not in failed[0].message and "Scopus" not in failed[0].message
    assert f["database_results"] == EXPECTED_PRISMA["database_results"]  # counts unchanged
