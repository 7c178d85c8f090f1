"""Reporting journey in headless Chromium: PRISMA diagram, CMOC CSV download, a workbook
prepared as a background job, RAMESES checklist; non-members get 404."""

import csv
import io
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from synthesis import exports
from tests.synthesis.reporting_data import EXPECTED_PRISMA, build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_reports_prisma_downloads_cmocs_and_reads_rameses(
    page, live_server, login, review, users
):
    build(review, users)
    login("owner")
    page.get_by_role("link", name=review.title).click()
    page.get_by_role("link", name="Reporting", exact=True).first.click()
    expect(page.locator("h1")).to_have_text("Reporting")

    page.get_by_role("link", name="PRISMA 2020").click()
    svg = page.locator("#prisma-diagram svg")
    expect(svg).to_be_visible()
    screened = EXPECTED_PRISMA["records_screened"]
    expect(svg).to_contain_text(f"Records screened (n = {screened})")
    expect(svg).to_contain_text(f"Duplicate records (n = {EXPECTED_PRISMA['duplicates']})")
    expect(svg).to_contain_text(f"(n = {EXPECTED_PRISMA['new_studies']})")

    page.get_by_role("link", name="Exports").click()
    with page.expect_download() as info:
        page.get_by_role("link", name="CMOC table as CSV").click()
    download = info.value
    assert download.suggested_filename == f"cmocs-review-{review.pk}.csv"
    with open(download.path(), encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == exports.CMOC_HEADER
    by_code = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert sorted(by_code) == ["C1", "C2"]
    assert by_code["C1"]["Number of sources"] == "2"
    assert by_code["C1"]["Sources"] == "Mervyn et al. 2019; Smith 2015"

    # The CMOC workbook is prepared in the background; its link appears when it is ready.
    page.get_by_role("button", name="Prepare CMOC table as Excel").click()
    link = page.locator("#downloads").get_by_role("link", name=f"Download cmocs-review-{review.pk}")
    expect(link).to_be_visible()
    with page.expect_download() as info:
        link.click()
    wb = openpyxl.load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()), read_only=True)
    assert [c.value for c in next(wb.worksheets[0].iter_rows(max_row=1))] == exports.CMOC_HEADER

    page.get_by_role("link", name="RAMESES").click()
    rows = page.locator("#rameses tbody tr")
    expect(rows).to_have_count(19)
    expect(rows.nth(7)).to_contain_text("MEDLINE")  # item 8, searching, filled from the data
    page.get_by_role("link", name="RAMESES II").click()
    expect(page.locator("#rameses tbody tr")).to_have_count(20)


def test_non_member_gets_404_on_reporting(page, live_server, login, review, users):
    build(review, users)
    login("outsider")
    for path in ("reporting/", "reporting/prisma/", "reporting/rameses/"):
        resp = page.goto(f"{live_server.url}/reviews/{review.pk}/{path}")
        assert resp.status == 404, path
    resp = page.goto(f"{live_server.url}/reviews/{review.pk}/reporting/export/cmocs.csv")
    assert resp is None or resp.status == 404


def test_replacing_the_api_token_asks_first(page, live_server, login, review, users):
    """ "Replace token" invalidated the analyst's scripts at one click, with no way back."""
    from rest_framework.authtoken.models import Token

    old = Token.objects.create(user=users["analyst"]).key
    login("analyst")
    page.goto(f"{live_server.url}/reviews/{review.pk}/reporting/api/")
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.get_by_role("button", name="Replace token").click()
    expect(page.locator("#api-token")).to_have_text(old)
    assert asked and "stop working" in asked[0]
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Replace token").click()
    expect(page.locator(".messages")).to_contain_text("the old one no longer works")
    assert Token.objects.get(user=users["analyst"]).key != old
