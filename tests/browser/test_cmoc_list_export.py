"""An analyst narrows the CMOC list and downloads exactly those CMOCs."""

import csv
import io

import pytest

from cmoc.services import coding as svc

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_filter_then_export_these(page, live_server, login, users, review):
    u = users["reviewer"]
    for code, statement in [("A1", "Shared goals build trust."), ("A2", "Slow pace erodes trust."),
                            ("B7", "Leadership legitimacy.")]:  # fmt: skip
        svc.cmoc_create(user=u, review=review, code=code, statement=statement, outcome="O")
    login("analyst")
    page.goto(f"{live_server.url}/reviews/{review.pk}/cmocs/")
    page.fill("input[name=q]", "trust")
    page.press("input[name=q]", "Enter")
    page.wait_for_function("document.querySelectorAll('#cmocs tbody tr').length === 2")
    assert "q=trust" in page.get_attribute("#export-these-csv", "href")
    with page.expect_download() as info:
        page.click("#export-these-csv")
    download = info.value
    with open(download.path(), encoding="utf-8-sig") as f:
        rows = list(csv.reader(io.StringIO(f.read())))
    assert download.suggested_filename == f"cmocs-review-{review.pk}-selected.csv"
    assert [r[0] for r in rows[1:]] == ["A1", "A2"]
