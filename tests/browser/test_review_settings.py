"""A new team's first minutes in real Chromium: start a review from "My reviews", add a
co-reviewer and a phase on the settings page; the co-reviewer then finds the review."""

import pytest
from playwright.sync_api import expect

from synthesis.models import Phase, Review, Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_start_a_review_and_bring_in_the_team(signed_in, live_server, users):
    owner = signed_in("outsider")  # a member of nothing yet
    expect(owner.locator("h2", has_text="Start a review")).to_be_visible()
    owner.fill("#id_title", "Knowledge mobilisation partnerships")
    owner.fill("#id_question", "What works, for whom and why?")
    owner.click("text=Start the review")
    expect(owner.locator("h1")).to_have_text("Review settings")
    review = Review.objects.get(title="Knowledge mobilisation partnerships")
    assert review.role_of(users["outsider"]) == Role.OWNER

    owner.fill("#id_who", "nobody@example.org")
    owner.click("button:text-is('Add')")
    expect(owner.locator(".error")).to_contain_text("No account has that username")
    owner.fill("#id_who", "reviewer2")
    owner.select_option("#id_role", "reviewer")
    owner.click("button:text-is('Add')")
    expect(owner.locator("#members")).to_contain_text("reviewer2")

    owner.fill("#id_name", "Theory gleaning")
    owner.fill("#id_order", "1")
    owner.click("text=Add phase")
    expect(owner.locator(".messages")).to_contain_text("Phase Theory gleaning added")
    assert list(Phase.objects.filter(review=review).values_list("name", flat=True)) == [
        "Theory gleaning"
    ]

    colleague = signed_in("reviewer2")
    colleague.click("text=Knowledge mobilisation partnerships")
    expect(colleague.locator("h1")).to_have_text("Knowledge mobilisation partnerships")
    expect(colleague.locator("nav.review-nav a", has_text="Settings")).to_have_count(0)
