"""Two coders editing one CMOC: an edit made from a version someone has replaced since is
refused with who saved it and when, and nothing is lost (service, page and API)."""

import pytest
from django.urls import reverse

from cmoc.models import CMOC
from cmoc.services import coding as svc
from studies.models import Document, Study
from tests.concurrency import CONFLICT, SAVED, at_the_same_moment

pytestmark = pytest.mark.django_db


@pytest.fixture
def cmoc(review, users):
    return svc.cmoc_create(
        user=users["reviewer"], review=review, context="Shared goals", outcome="Commitment",
        statement="Shared goals build commitment.",
    )  # fmt: skip


def test_an_edit_from_a_replaced_version_is_refused_and_changes_nothing(users, cmoc):
    users["reviewer2"].first_name, users["reviewer2"].last_name = "Ravi", "Second"
    users["reviewer2"].save()
    assert cmoc.version == 1
    mine, theirs = CMOC.objects.get(pk=cmoc.pk), CMOC.objects.get(pk=cmoc.pk)
    saved = svc.cmoc_update(
        user=users["reviewer2"], cmoc=theirs, expected_version=1, outcome="Joint commitment"
    )
    assert saved.version == 2
    with pytest.raises(svc.EditConflict) as caught:
        svc.cmoc_update(user=users["reviewer"], cmoc=mine, expected_version=1, context="Mandate")
    message = caught.value.message_dict["version"][0]
    assert "Ravi Second saved C001" in message and "(version 2)" in message
    assert "(version 1)" in message
    assert caught.value.current.version == 2
    row = CMOC.objects.get(pk=cmoc.pk)
    assert (row.context, row.outcome, row.version) == ("Shared goals", "Joint commitment", 2)
    # Saving again from the version now saved keeps the reviewer's edit, knowingly.
    again = svc.cmoc_update(
        user=users["reviewer"], cmoc=mine, expected_version=2, context="Mandate"
    )
    row = CMOC.objects.get(pk=cmoc.pk)
    assert (again.version, row.context, row.outcome, row.version) == (
        3, "Mandate", "Joint commitment", 3
    )  # fmt: skip


def test_without_an_expected_version_the_update_applies(users, cmoc):
    svc.cmoc_update(user=users["reviewer2"], cmoc=cmoc, theme="Trust")
    updated = svc.cmoc_update(user=users["reviewer"], cmoc=CMOC.objects.get(pk=cmoc.pk), theme="X")
    assert (updated.version, CMOC.objects.get(pk=cmoc.pk).theme) == (3, "X")


def test_an_update_keeps_what_others_recorded_since_its_copy_was_read(review, users, cmoc):
    """The caller's copy of the CMOC is older than the row: a second coder's check and the
    source count of evidence linked meanwhile are not written back over."""
    stale = CMOC.objects.get(pk=cmoc.pk)
    study = Study.objects.create(review=review, label="Mervyn et al. 2019")
    doc = Document.objects.create(review=review, study=study, title="Mervyn", text="Trust grew.")
    ex = svc.excerpt_create(user=users["reviewer"], document=doc, start=0, end=11)
    svc.evidence_add(user=users["reviewer"], cmoc=CMOC.objects.get(pk=cmoc.pk), excerpt=ex)
    svc.cmoc_check(user=users["reviewer2"], cmoc=CMOC.objects.get(pk=cmoc.pk))
    assert stale.source_count == 0 and not stale.checked
    svc.cmoc_update(user=users["owner"], cmoc=stale, theme="Trust")
    row = CMOC.objects.get(pk=cmoc.pk)
    assert (row.theme, row.source_count, row.checked, row.checked_by) == (
        "Trust", 1, True, users["reviewer2"]
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_two_saves_from_one_version_at_the_same_moment_one_wins(review, users, cmoc):
    def save(who: str, outcome: str):
        copy = CMOC.objects.get(pk=cmoc.pk)
        svc.cmoc_update(user=users[who], cmoc=copy, expected_version=1, outcome=outcome)

    outcomes = dict(zip(("reviewer", "reviewer2"), at_the_same_moment(
        lambda: save("reviewer", "Mine"), lambda: save("reviewer2", "Theirs"),
    ), strict=True))  # fmt: skip
    assert sorted(outcomes.values()) == [CONFLICT, SAVED], outcomes
    winner = next(who for who, how in outcomes.items() if how == SAVED)
    row = CMOC.objects.get(pk=cmoc.pk)
    assert (row.version, row.outcome) == (2, {"reviewer": "Mine", "reviewer2": "Theirs"}[winner])


def _form(cmoc, **changes) -> dict:
    data = {
        "code": cmoc.code, "context": cmoc.context, "mechanism_resource": "",
        "mechanism_reasoning": "", "outcome": cmoc.outcome, "statement": cmoc.statement,
        "origin": cmoc.origin, "relation": "", "prior_code": "", "confidence": "",
        "confidence_note": "", "theme": "", "tags": "", "version": cmoc.version,
    }  # fmt: skip
    return data | changes


def test_the_edit_page_shows_a_conflict_keeps_the_input_and_saves_on_the_second_try(
    client_for, users, review, cmoc
):
    url = reverse("coding-cmoc-edit", args=[review.pk, cmoc.pk])
    client = client_for("reviewer")
    page = client.get(url).content.decode()
    assert 'name="version" value="1"' in page
    svc.cmoc_update(user=users["reviewer2"], cmoc=cmoc, expected_version=1, outcome="Loyalty")

    resp = client.post(url, _form(cmoc, outcome="My outcome", version=1))
    assert resp.status_code == 200
    page = resp.content.decode()
    assert "after the version you edited (version 1) was opened" in page
    assert "My outcome" in page  # the reviewer's input is still in the form
    assert "Saved version: <q>Loyalty</q>" in page
    assert 'name="version" value="2"' in page
    assert CMOC.objects.get(pk=cmoc.pk).outcome == "Loyalty"

    resp = client.post(url, _form(cmoc, outcome="My outcome", version=2))
    assert resp.status_code == 302
    row = CMOC.objects.get(pk=cmoc.pk)
    assert (row.outcome, row.version) == ("My outcome", 3)


def test_the_api_answers_409_to_an_update_from_a_replaced_version(client_for, users, review, cmoc):
    url = f"/api/v1/reviews/{review.pk}/cmocs/{cmoc.pk}/"
    client = client_for("reviewer")
    assert client.get(url).json()["version"] == 1
    svc.cmoc_update(user=users["reviewer2"], cmoc=cmoc, expected_version=1, theme="Trust")

    resp = client.patch(url, {"outcome": "Mine", "version": 1}, content_type="application/json")
    assert resp.status_code == 409
    body = resp.json()
    assert body["current_version"] == 2 and "(version 2)" in body["version"][0]
    assert CMOC.objects.get(pk=cmoc.pk).outcome == "Commitment"

    resp = client.patch(url, {"outcome": "Mine", "version": 2}, content_type="application/json")
    assert resp.status_code == 200 and resp.json()["version"] == 3
    resp = client.patch(url, {"theme": "No check"}, content_type="application/json")
    assert resp.status_code == 200 and resp.json()["version"] == 4
    listed = client.get(f"/api/v1/reviews/{review.pk}/cmocs/").json()["results"]
    assert [c["version"] for c in listed] == [4]
