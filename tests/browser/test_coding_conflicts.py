"""Two coders in two real browsers open the same CMOC; the second to save is told who saved
it first, keeps what they typed, sees the saved version under each field that differs, and
saves again on purpose."""

import re

import pytest
from playwright.sync_api import expect

from cmoc.models import CMOC
from cmoc.services import coding as svc

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DETAIL = re.compile(r"/reviews/\d+/cmocs/\d+/$")


def test_second_save_from_an_old_version_is_shown_not_lost(signed_in, live_server, review, users):
    users["reviewer2"].first_name, users["reviewer2"].last_name = "Ravi", "Second"
    users["reviewer2"].save()
    cmoc = svc.cmoc_create(
        user=users["reviewer"], review=review, context="Shared goals", outcome="Commitment",
        statement="Shared goals build commitment.",
    )  # fmt: skip
    edit = f"{live_server.url}/reviews/{review.pk}/coding/cmocs/{cmoc.pk}/edit/"
    mine, theirs = signed_in("reviewer"), signed_in("reviewer2")
    mine.goto(edit)
    theirs.goto(edit)

    theirs.fill("#id_outcome", "Joint commitment")
    theirs.click("#save-cmoc")
    theirs.wait_for_url(DETAIL)  # saved: on the CMOC's page
    assert CMOC.objects.get(pk=cmoc.pk).version == 2

    mine.fill("#id_context", "A mandate to collaborate")
    mine.click("#save-cmoc")
    expect(mine.locator("p.error")).to_contain_text("Ravi Second saved C001")
    expect(mine.locator("#id_context")).to_have_value("A mandate to collaborate")
    expect(mine.locator(".saved-now")).to_have_count(2)  # context and outcome differ
    expect(mine.locator(".saved-now").last).to_contain_text("Joint commitment")
    row = CMOC.objects.get(pk=cmoc.pk)
    assert (row.context, row.outcome) == ("Shared goals", "Joint commitment")

    mine.click("#save-cmoc")  # knowingly: keeps this coder's whole version
    mine.wait_for_url(DETAIL)
    row = CMOC.objects.get(pk=cmoc.pk)
    assert (row.context, row.outcome, row.version) == ("A mandate to collaborate", "Commitment", 3)
