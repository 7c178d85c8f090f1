"""Codebook in real Chromium: the Describe form shows the chosen concept's stored values, so
changing only its mechanism type keeps the description and synonyms (blank fields used to
replace them)."""

import pytest
from playwright.sync_api import expect

from cmoc.models import Concept

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_describe_shows_stored_values_and_keeps_them(page, live_server, login, review):
    Concept.objects.create(review=review, label="Agency")
    faith = Concept.objects.create(
        review=review, label="Faith", description="Belief that partners deliver",
        synonyms=["belief", "hope"],
    )  # fmt: skip
    login("reviewer")
    page.goto(f"{live_server.url}/reviews/{review.pk}/codebook/")
    form = page.locator("#concept-update")
    form.get_by_label("Concept").select_option(label="Faith")
    expect(page.locator("#update-description")).to_have_value("Belief that partners deliver")
    expect(page.locator("#update-synonyms")).to_have_value("belief, hope")
    page.locator("#concept-update").get_by_label("Mechanism type").select_option("reasoning")
    page.locator("#concept-update").get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Updated “Faith”")
    # after saving, the form still describes Faith, with what was stored
    expect(page.locator("#update-concept")).to_have_value(str(faith.pk))
    expect(page.locator("#update-description")).to_have_value("Belief that partners deliver")
    faith.refresh_from_db()
    assert faith.mechanism_type == "reasoning"
    assert faith.description == "Belief that partners deliver"
    assert faith.synonyms == ["belief", "hope"]
