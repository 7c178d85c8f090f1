import re

import pytest
from playwright.sync_api import expect

from synthesis.demo import DEMO_PASSWORD, demo_load

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_demo_reviewer_opens_a_cmoc_and_sees_its_evidence(page, live_server, login):
    review, _ = demo_load()
    login("rita", DEMO_PASSWORD)
    page.get_by_role("link", name=review.title).click()
    expect(page.locator("#n-studies")).to_have_text("72")
    expect(page.locator("#n-cmocs")).to_have_text("56")
    page.get_by_role("link", name="CMOCs", exact=True).first.click()
    page.get_by_role("combobox", name="Minimum sources").select_option("1")
    page.wait_for_url(re.compile(r"min_sources=1"))
    first = page.locator("#cmocs tbody tr td a").first
    code = first.inner_text()
    first.click()
    expect(page.locator("h1")).to_contain_text(code)
    evidence = page.locator("#evidence blockquote.excerpt")
    expect(evidence.first).to_be_visible()
    expect(evidence.first).to_contain_text("Mervyn")


def test_non_member_gets_404_on_the_demo_review(page, live_server, login, make_user):
    review, _ = demo_load()
    make_user("stranger")
    login("stranger")
    resp = page.goto(f"{live_server.url}/reviews/{review.pk}/cmocs/")
    assert resp.status == 404
