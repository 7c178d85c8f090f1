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
