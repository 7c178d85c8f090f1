"""Activity journey in headless Chromium: an analyst filters the audit trail by member and
area, opens an event's details (from → to), follows the link to the CMOC, whose History
lists the change and leads back to the activity page filtered to that CMOC; another
reviewer's blind vote never shows."""

import csv

import pytest
from playwright.sync_api import expect

from cmoc.services import coding as coding_svc
from studies.services import screening as screening_svc
from tests.studies.screening_fixtures import make_records, make_stages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_analyst_traces_a_cmoc_change_through_the_activity_page(
    page, live_server, login, review, users
):
    ta, _ft = make_stages(review, users["owner"])
    (record,) = make_records(review, 1)
    screening_svc.decision_record(
        user=users["reviewer2"], stage=ta, record=record, decision="exclude"
    )
    cmoc = coding_svc.cmoc_create(
        user=users["reviewer"], review=review, statement="Trust grows", code="B1-01"
    )
    coding_svc.cmoc_update(user=users["reviewer"], cmoc=cmoc, statement="Trust grows slowly")
    coding_svc.cmoc_create(user=users["reviewer2"], review=review, statement="Other", code="B1-02")

    login("analyst")
    page.get_by_role("link", name=review.title).click()
    page.locator("nav.review-nav").get_by_role("link", name="Activity", exact=True).click()
    expect(page.locator("h1")).to_contain_text("Activity")
    rows = page.locator("#activity > tbody > tr")
    # blind screening: reviewer2's vote is not listed for the analyst
    expect(page.locator("#activity")).not_to_contain_text(f"record {record.pk}")
    expect(page.locator("#activity")).to_contain_text("created a CMOC")

    page.get_by_label("Member").select_option(label="reviewer")
    page.get_by_label("Area").select_option(label="CMOC coding")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)
    # the filters live in the URL: the view can be bookmarked
    assert f"actor={users['reviewer'].pk}&area=coding" in page.url
    expect(page.locator("#activity")).not_to_contain_text("B1-02")

    changed = rows.filter(has_text="changed a CMOC")
    details = changed.locator("details.event-details")
    expect(details.locator("table.changes")).not_to_be_visible()
    details.locator("summary").click()
    change = details.locator("table.changes tbody tr")
    expect(change).to_have_count(1)
    expect(change).to_contain_text("statement")
    expect(change.locator("td").nth(1)).to_have_text("Trust grows")
    expect(change.locator("td").nth(2)).to_have_text("Trust grows slowly")

    # the CSV carries the same filter
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    with open(info.value.path(), encoding="utf-8-sig", newline="") as fh:
        verbs = [row[5] for row in list(csv.reader(fh))[1:]]
    assert sorted(verbs) == ["cmoc.create", "cmoc.update"]

    changed.get_by_role("link", name=f"CMOC {cmoc.pk}").click()
    expect(page.locator("h1")).to_contain_text("B1-01")
    history = page.locator("#history")
    expect(history.locator("li")).to_have_count(2)
    expect(history).to_contain_text("Trust grows → Trust grows slowly")
    history.get_by_role("link", name="History on the activity page").click()
    expect(page.locator("#activity-target")).to_contain_text(f"CMOC {cmoc.pk}")
    expect(rows).to_have_count(2)
