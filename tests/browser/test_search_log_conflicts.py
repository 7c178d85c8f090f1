"""Two reviewers in two real browsers open the same search log entry; the second to save is
told who saved it first, keeps what they typed, sees the saved version under the field that
differs, and saves again on purpose."""

import re

import pytest
from playwright.sync_api import expect

from studies.models import Search
from studies.services import identification as svc

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEARCHES = re.compile(r"/reviews/\d+/identification/$")


def test_second_save_of_a_search_from_an_old_version_is_shown_not_lost(
    signed_in, live_server, review, users
):
    users["reviewer2"].first_name, users["reviewer2"].last_name = "Ravi", "Second"
    users["reviewer2"].save()
    search = svc.search_create(
        user=users["reviewer"], review=review, source="MEDLINE (Ovid)", query="collaborat*"
    )
    edit = f"{live_server.url}/reviews/{review.pk}/identification/searches/{search.pk}/edit/"
    mine, theirs = signed_in("reviewer"), signed_in("reviewer2")
    mine.goto(edit)
    theirs.goto(edit)

    theirs.fill("#id_limits", "English, 2000-")
    theirs.click("button.primary")
    theirs.wait_for_url(SEARCHES)
    assert Search.objects.get(pk=search.pk).version == 2

    mine.fill("#id_query", "partnership* OR collaborat*")
    mine.click("button.primary")
    expect(mine.locator("p.error")).to_contain_text("Ravi Second saved the search of MEDLINE")
    expect(mine.locator("#id_query")).to_have_value("partnership* OR collaborat*")
    expect(mine.locator(".saved-now")).to_have_count(2)  # query and limits differ
    expect(mine.locator(".saved-now").last).to_contain_text("English, 2000-")
    row = Search.objects.get(pk=search.pk)
    assert (row.query, row.limits) == ("collaborat*", "English, 2000-")

    mine.click("button.primary")  # knowingly: keeps this reviewer's whole version
    mine.wait_for_url(SEARCHES)
    row = Search.objects.get(pk=search.pk)
    assert (row.query, row.limits, row.version) == ("partnership* OR collaborat*", "", 3)
