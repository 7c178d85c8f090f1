"""Browser journey: the owner adds a field to the extraction form; a reviewer fills it for
two studies, appraises one excerpt, and sees the answers in the characteristics table."""

import pytest

from studies.models import Appraisal
from studies.services.extraction import extraction_form_create_default
from tests.studies.appraisal_helpers import make_excerpt

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = {
    "Alpha 2019": ("England", "Merger", "Acute care", "Refinement", "4"),
    "Beta 2021": ("Scotland", "Alliance", "Primary care", "Gleaning", "12"),
}


def test_extraction_and_appraisal_journey(page, live_server, login, review, users):
    form = extraction_form_create_default(user=users["owner"], review=review)
    alpha, beta = (review.studies.create(label=label) for label in ROWS)
    excerpt = make_excerpt(review, alpha, "Leaders met weekly, which built trust.")
    base = f"{live_server.url}/reviews/{review.pk}"

    # The owner adds a field in the form designer.
    login("owner")
    page.goto(f"{base}/extraction/")
    page.get_by_role("link", name="Design form").click()
    page.fill("#new-label", "Number of sites")
    page.select_option("#new-type", "number")
    page.fill("#new-help", "Sites or organisations in the collaboration")
    page.get_by_role("button", name="Add field").click()
    page.wait_for_selector("#field-number_of_sites")
    assert "Number of sites" in page.inner_text("#fields")

    # A reviewer fills the form for two studies.
    page.context.clear_cookies()
    login("reviewer")
    for study in (alpha, beta):
        country, kind, sector, phase, sites = ROWS[study.label]
        page.goto(f"{base}/extraction/forms/{form.pk}/studies/{study.pk}/")
        page.fill("#id-study", study.label)
        page.fill("#id-country", country)
        page.fill("#id-partnership_type", kind)
        page.fill("#id-sector", sector)
        page.check(f"input[name='f-phase_of_use'][value='{phase}']")
        page.fill("#id-number_of_sites", "many")  # a wrong number first: a field error
        page.get_by_role("button", name="Save answers").click()
        page.wait_for_selector("#answer-number_of_sites .error")
        assert "Enter a number" in page.inner_text("#answer-number_of_sites")
        assert page.input_value("#id-country") == country  # nothing typed is lost
        page.fill("#id-number_of_sites", sites)
        page.get_by_role("button", name="Save answers").click()
        page.wait_for_selector(".messages li.success")

    # ... and appraises one excerpt (htmx partial update).
    page.goto(f"{base}/appraisal/excerpt/{excerpt.pk}/")
    page.check("#relevance input[value='high']")
    page.check("#rigour input[value='low']")
    page.check("#verdict input[value='include']")
    page.fill("#id_verdict_reason", "Rich on trust; method thin but relevance high")
    page.get_by_role("button", name="Save appraisal").click()
    page.wait_for_selector("#appraisal-form .badge.ok")
    a = Appraisal.objects.get(excerpt=excerpt)
    assert (a.relevance, a.rigour, a.verdict, a.appraiser.username) == (
        "high", "low", "include", "reviewer",
    )  # fmt: skip

    # The characteristics table shows the answers, including the new field.
    page.goto(f"{base}/characteristics/")
    table = page.locator("#characteristics")
    headers = table.locator("thead th").all_inner_texts()
    assert "Number of sites" in " ".join(headers)
    for label, (country, kind, _sector, phase, sites) in ROWS.items():
        row = table.locator("tbody tr", has_text=label)
        cells = row.locator("td").all_inner_texts()
        assert country in cells and kind in cells and phase in cells and sites in cells
    # Sorting by the number column puts 12 sites last when ascending.
    table.get_by_role("link", name="Number of sites").click()
    page.wait_for_url("**sort=number_of_sites**")
    first = page.locator("#characteristics tbody tr").first.inner_text()
    assert "Alpha 2019" in first
