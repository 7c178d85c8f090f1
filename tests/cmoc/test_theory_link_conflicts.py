"""A CMOC linked to (or unlinked from) a middle-range theory on the theory's page is a new
version of the CMOC: its edit form, opened before and writing the theories whole, is refused
instead of dropping the link (service and page)."""

import pytest
from django.urls import reverse

from cmoc.models import CMOC
from cmoc.services import coding as svc

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(review, users):
    users["reviewer2"].first_name, users["reviewer2"].last_name = "Ravi", "Second"
    users["reviewer2"].save()
    cmoc = svc.cmoc_create(
        user=users["reviewer"], review=review, context="Shared goals", outcome="Commitment",
        statement="Shared goals build commitment.",
    )  # fmt: skip
    theory = svc.middle_range_theory_create(
        user=users["reviewer"], review=review, name="Social exchange"
    )
    return cmoc, theory


def _row(cmoc):
    return CMOC.objects.get(pk=cmoc.pk)


def test_a_link_made_since_the_edit_form_was_opened_is_not_dropped(users, setup):
    cmoc, theory = setup
    svc.middle_range_theory_link(user=users["reviewer2"], theory=theory, cmoc=_row(cmoc))
    assert _row(cmoc).version == 2
    # linking again changes nothing: no new version
    svc.middle_range_theory_link(user=users["reviewer2"], theory=theory, cmoc=_row(cmoc))
    assert _row(cmoc).version == 2

    with pytest.raises(svc.EditConflict, match=r"Ravi Second saved C001 .*\(version 2\)"):
        svc.cmoc_update(
            user=users["reviewer"], cmoc=cmoc, expected_version=1, theme="Trust",
            middle_range_theories=[],
        )  # fmt: skip
    row = _row(cmoc)
    assert (row.theme, list(row.middle_range_theories.all())) == ("", [theory])

    svc.middle_range_theory_link(
        user=users["reviewer2"], theory=theory, cmoc=_row(cmoc), linked=False
    )
    assert (_row(cmoc).version, _row(cmoc).middle_range_theories.count()) == (3, 0)


def test_the_cmoc_edit_page_shows_the_theory_linked_meanwhile(client_for, users, review, setup):
    cmoc, theory = setup
    url = reverse("coding-cmoc-edit", args=[review.pk, cmoc.pk])
    client = client_for("reviewer")
    assert 'name="version" value="1"' in client.get(url).content.decode()
    # Linked from the theory page by a co-reviewer.
    resp = client_for("reviewer2").post(
        reverse("coding-theory-links", args=[review.pk]),
        {"action": "link", "theory": theory.pk, "cmocs": "C001"},
    )
    assert resp.status_code == 302
    form = {
        "code": "C001", "context": "Shared goals", "mechanism_resource": "",
        "mechanism_reasoning": "", "outcome": "Commitment", "statement": cmoc.statement,
        "origin": cmoc.origin, "relation": "", "prior_code": "", "confidence": "",
        "confidence_note": "", "theme": "Partnership", "tags": "", "version": 1,
    }  # fmt: skip

    client = client_for("reviewer")
    resp = client.post(url, form)
    assert resp.status_code == 200
    page = resp.content.decode()
    assert "Ravi Second saved C001" in page
    assert 'value="Partnership"' in page  # the reviewer's input is kept
    assert "Saved version: <q>Social exchange</q>" in page
    assert 'name="version" value="2"' in page
    row = _row(cmoc)
    assert (row.theme, list(row.middle_range_theories.all())) == ("", [theory])

    # Ticking the theory too, from the page shown now, saves both.
    resp = client.post(url, form | {"version": 2, "middle_range_theories": [theory.pk]})
    assert resp.status_code == 302
    row = _row(cmoc)
    assert (row.theme, list(row.middle_range_theories.all())) == ("Partnership", [theory])


def test_the_theory_edit_page_keeps_the_ticked_unlinks_after_a_conflict(
    client_for, users, review, setup
):
    cmoc, theory = setup
    svc.middle_range_theory_link(user=users["reviewer"], theory=theory, cmoc=cmoc)
    url = reverse("coding-theory-edit", args=[review.pk, theory.pk])
    client = client_for("reviewer")
    assert 'name="version" value="1"' in client.get(url).content.decode()
    svc.middle_range_theory_update(
        user=users["reviewer2"], theory=theory, expected_version=1, citation="Blau 1964"
    )
    form = {"name": "Social exchange", "citation": "", "description": "", "unlink": cmoc.pk}
    resp = client.post(url, form | {"version": 1})
    page = resp.content.decode()
    assert resp.status_code == 200 and "Ravi Second saved" in page
    assert f'name="unlink" value="{cmoc.pk}" checked' in page
    assert _row(cmoc).middle_range_theories.count() == 1
    resp = client.post(url, form | {"version": 2})
    assert resp.status_code == 302 and _row(cmoc).middle_range_theories.count() == 0
