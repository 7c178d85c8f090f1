"""A second coder's check or uncheck made from a page opened before the CMOC or its check
changed is refused: a co-coder's newer check is never undone unseen, and no one vouches for
a CMOC version they have not read (service and page)."""

import pytest
from django.urls import reverse

from cmoc.models import CMOC, CMOCComment
from cmoc.services import coding as svc

pytestmark = pytest.mark.django_db


@pytest.fixture
def cmoc(review, users):
    for name, first in (("reviewer2", "Ravi"), ("owner", "Olu")):
        users[name].first_name, users[name].last_name = first, "Coder"
        users[name].save()
    return svc.cmoc_create(
        user=users["reviewer"], review=review, context="Shared goals", outcome="Commitment",
        statement="Shared goals build commitment.",
    )  # fmt: skip


def _row(cmoc):
    return CMOC.objects.get(pk=cmoc.pk)


def test_an_uncheck_from_a_stale_page_does_not_undo_a_newer_check(users, cmoc):
    # Olu checked; Ravi opens the page (checked by Olu); Olu unchecks and checks again
    # after a second look. Ravi's "Mark unchecked" was meant for the first check.
    svc.cmoc_check(user=users["owner"], cmoc=_row(cmoc))
    seen = svc.cmoc_check_state(_row(cmoc))
    assert seen.startswith(f"{users['owner'].pk}@")
    svc.cmoc_check(user=users["owner"], cmoc=_row(cmoc), checked=False)
    svc.cmoc_check(user=users["owner"], cmoc=_row(cmoc), comment="Holds after all.")
    with pytest.raises(svc.EditConflict, match="Olu Coder marked C001 checked") as caught:
        svc.cmoc_check(
            user=users["reviewer2"], cmoc=_row(cmoc), checked=False, comment="Weak link",
            expected_version=1, expected_check=seen,
        )  # fmt: skip
    assert "Nothing was changed" in caught.value.message_text
    row = _row(cmoc)
    assert (row.checked, row.checked_by_id) == (True, users["owner"].pk)
    assert not CMOCComment.objects.filter(text="Weak link").exists()
    # From the state shown now, the uncheck applies.
    svc.cmoc_check(
        user=users["reviewer2"], cmoc=_row(cmoc), checked=False,
        expected_version=1, expected_check=svc.cmoc_check_state(row),
    )  # fmt: skip
    assert _row(cmoc).checked is False


def test_a_check_from_a_stale_page_does_not_replace_a_co_coders(users, cmoc):
    svc.cmoc_check(user=users["owner"], cmoc=_row(cmoc))
    with pytest.raises(svc.EditConflict, match="Olu Coder marked C001 checked"):
        svc.cmoc_check(
            user=users["reviewer2"], cmoc=_row(cmoc), expected_version=1, expected_check=""
        )
    assert _row(cmoc).checked_by_id == users["owner"].pk


def test_a_check_of_a_cmoc_changed_since_it_was_read_is_refused(users, cmoc):
    svc.cmoc_update(user=users["owner"], cmoc=_row(cmoc), expected_version=1, outcome="Trust")
    with pytest.raises(svc.EditConflict, match=r"Olu Coder changed C001 .*\(version 2\)"):
        svc.cmoc_check(
            user=users["reviewer2"], cmoc=_row(cmoc), expected_version=1, expected_check=""
        )
    assert _row(cmoc).checked is False
    checked = svc.cmoc_check(
        user=users["reviewer2"], cmoc=_row(cmoc), expected_version=2, expected_check=""
    )
    # A check changes no coded field: an edit form opened before it still saves.
    assert (checked.checked, _row(cmoc).version) == (True, 2)
    svc.cmoc_update(user=users["owner"], cmoc=_row(cmoc), expected_version=2, theme="Trust")


def test_the_cmoc_page_refuses_a_stale_check_and_keeps_the_comment(client_for, users, cmoc):
    url = reverse("cmoc-detail", args=[cmoc.review_id, cmoc.pk])
    client = client_for("reviewer2")
    page = client.get(url).content.decode()
    assert 'name="version" value="1"' in page and 'name="check" value=""' in page
    svc.cmoc_check(user=users["owner"], cmoc=_row(cmoc))
    check_url = reverse("coding-cmoc-check", args=[cmoc.review_id, cmoc.pk])
    form = {"checked": "1", "comment": "The mechanism is inferred, not observed.", "version": 1}

    resp = client.post(check_url, form | {"check": ""})
    assert resp.status_code == 200
    page = resp.content.decode()
    assert "Olu Coder marked C001 checked" in page and "Nothing was changed" in page
    assert "The mechanism is inferred, not observed.</textarea>" in page
    assert "Mark unchecked" in page  # the page as saved now
    state = svc.cmoc_check_state(_row(cmoc))
    assert f'name="check" value="{state}"' in page
    row = _row(cmoc)
    assert (row.checked_by_id, row.comments.count()) == (users["owner"].pk, 0)

    # Deciding again from the page shown now applies.
    resp = client.post(check_url, form | {"checked": "0", "check": state})
    assert resp.status_code == 302
    row = _row(cmoc)
    assert (row.checked, row.comments.count()) == (False, 1)
