"""A screening conflict resolved (or its resolution changed) after a resolver opened it: their
save is refused with who resolved it, the other resolution stays and their input is kept
(service and page)."""

import pytest
from django.urls import reverse

from studies.models import ScreeningResolution
from studies.services import screening as svc
from synthesis.concurrency import EditConflict
from synthesis.models import Membership
from tests.studies.screening_fixtures import make_records, make_stages

pytestmark = pytest.mark.django_db


@pytest.fixture
def conflict(review, users, make_user):
    ta, _ = make_stages(review, users["owner"])
    record = make_records(review, 1)[0]
    for who, decision in (("reviewer", "include"), ("reviewer2", "exclude")):
        svc.decision_record(user=users[who], stage=ta, record=record, decision=decision)
    third = make_user("third", first_name="Tess", last_name="Third")
    Membership.objects.create(review=review, user=third, role="reviewer")
    users["owner"].first_name, users["owner"].last_name = "Olu", "Owner"
    users["owner"].save()
    return ta, record, third


def test_a_resolution_made_since_the_page_was_opened_is_not_replaced(users, conflict):
    ta, record, third = conflict
    svc.resolution_record(user=third, stage=ta, record=record, decision="include", expected="")
    with pytest.raises(EditConflict, match="Tess Third resolved this conflict as Include"):
        svc.resolution_record(
            user=users["owner"], stage=ta, record=record, decision="exclude", expected=""
        )
    res = ScreeningResolution.objects.get(stage=ta, record=record)
    assert (res.decision, res.resolved_by_id) == ("include", third.pk)
    # From the resolution shown now, the owner's replaces it, knowingly.
    svc.resolution_record(
        user=users["owner"], stage=ta, record=record, decision="exclude",
        expected=svc.resolution_state(res),
    )  # fmt: skip
    res = ScreeningResolution.objects.get(stage=ta, record=record)
    assert (res.decision, res.resolved_by_id) == ("exclude", users["owner"].pk)
    with pytest.raises(EditConflict, match="Olu Owner resolved this conflict as Exclude"):
        svc.resolution_record(user=third, stage=ta, record=record, decision="maybe", expected="")


def test_the_conflict_page_refuses_a_stale_resolution_and_keeps_the_note(
    client_for, review, users, conflict
):
    ta, record, third = conflict
    url = reverse("screening-conflict", args=[review.pk, ta.pk, record.pk])
    client = client_for("owner")
    assert 'name="resolution" value=""' in client.get(url).content.decode()
    svc.resolution_record(user=third, stage=ta, record=record, decision="include")
    form = {"decision": "exclude", "note": "No collaboration in the abstract", "resolution": ""}

    resp = client.post(url, form)
    assert resp.status_code == 200
    page = resp.content.decode()
    assert "Tess Third resolved this conflict as Include" in page
    assert "No collaboration in the abstract</textarea>" in page
    assert 'value="exclude" required checked' in page
    state = svc.resolution_state(ScreeningResolution.objects.get(stage=ta, record=record))
    assert f'name="resolution" value="{state}"' in page
    assert ScreeningResolution.objects.get(stage=ta, record=record).decision == "include"

    resp = client.post(url, form | {"resolution": state})
    assert resp.status_code == 302
    assert ScreeningResolution.objects.get(stage=ta, record=record).decision == "exclude"


def test_of_two_first_resolutions_at_once_the_later_is_refused(users, conflict, monkeypatch):
    """Both resolvers saw no resolution; the one whose INSERT loses the race retries and
    finds the winner's: refused, not written over. (Simulated: the first try fails as on
    the unique constraint, and the winner's row is there when it retries.)"""
    from django.db import IntegrityError

    ta, record, third = conflict
    real, calls = svc._resolution_upsert, {"n": 0}

    def racing(*args):
        calls["n"] += 1
        if calls["n"] == 1:
            raise IntegrityError("UNIQUE constraint failed")
        ScreeningResolution.objects.create(
            record=record, stage=ta, decision="include", resolved_by=third
        )
        return real(*args)

    monkeypatch.setattr(svc, "_resolution_upsert", racing)
    with pytest.raises(EditConflict, match="Tess Third resolved this conflict as Include"):
        svc.resolution_record(
            user=users["owner"], stage=ta, record=record, decision="exclude", expected=""
        )
    assert calls["n"] == 2  # (the simulated winner's row went with the refused retry)
