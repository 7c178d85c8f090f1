"""On a phone the review navigation folds behind a Menu button; on a laptop it is always open."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_phone_menu_folds_and_opens(page, live_server, login, review):
    login("reviewer")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/reviews/{review.pk}/")
    cmocs = page.locator("#review-nav >> text=CMOCs")
    assert page.is_visible(".nav-toggle") and not cmocs.is_visible()
    folded = page.evaluate("document.querySelector('header.top').offsetHeight")
    assert folded < 120, folded
    page.click(".nav-toggle")
    assert page.get_attribute(".nav-toggle", "aria-expanded") == "true"
    cmocs.click()
    page.wait_for_url(f"{live_server.url}/reviews/{review.pk}/cmocs/")
    assert not page.locator("#review-nav >> text=CMOCs").is_visible()  # folded on the next page


def test_laptop_shows_links_without_menu(page, live_server, login, review):
    login("reviewer")
    page.goto(f"{live_server.url}/reviews/{review.pk}/")
    assert not page.is_visible(".nav-toggle")
    assert page.locator("#review-nav >> text=CMOCs").is_visible()
