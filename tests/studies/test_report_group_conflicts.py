"""A full-text report regrouped under a study from a page opened before a co-reviewer grouped
it under another: refused with who did it, their study stays (service and page)."""

import pytest
from django.urls import reverse

from studies.models import Document, Record, Study
from studies.services import screening as svc
from synthesis.concurrency import EditConflict
from tests.studies.screening_fixtures import make_records, make_stages

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(review, users):
    users["reviewer2"].first_name, users["reviewer2"].last_name = "Ravi", "Second"
    users["reviewer2"].save()
    review.dual_fraction = 0
    review.save()
    ta, _ft = make_stages(review, users["owner"])
    record = make_records(review, 1)[0]
    svc.decision_record(user=users["reviewer"], stage=ta, record=record, decision="include")
    Document.objects.create(review=review, record=record, title="Full text", text="Trust.")
    a = Study.objects.create(review=review, label="Aardvark et al. 2001")
    b = Study.objects.create(review=review, label="Badger et al. 2002")
    return record, a, b


def test_a_regroup_from_a_stale_page_keeps_the_co_reviewers_study(users, report):
    record, a, b = report
    svc.report_group(user=users["reviewer2"], record=record, study=a, expected="")
    stale = Record.objects.get(pk=record.pk)
    stale.study_id = None  # the reviewer's copy, loaded before
    with pytest.raises(EditConflict, match=r"Ravi Second grouped record \d+ under Aardvark"):
        svc.report_group(user=users["reviewer"], record=stale, study=b, expected="")
    assert Record.objects.get(pk=record.pk).study_id == a.pk
    assert Document.objects.get(record=record).study_id == a.pk
    # The study shown now, or the study already saved, or no `expected` (scripts): applies.
    svc.report_group(user=users["reviewer"], record=record, study=a, expected="")
    svc.report_group(user=users["reviewer"], record=record, study=b, expected=str(a.pk))
    assert Document.objects.get(record=record).study_id == b.pk
    svc.report_group(user=users["reviewer"], record=record, study=a)
    assert Record.objects.get(pk=record.pk).study_id == a.pk


def test_the_full_text_list_sends_the_study_shown_and_says_who_regrouped(
    client_for, review, users, report
):
    record, a, b = report
    c = client_for("reviewer")
    page = reverse("screening-fulltexts", args=[review.pk])
    group = reverse("screening-report-group", args=[review.pk, record.pk])
    html = c.get(page).content.decode()
    assert 'name="shown" value=""' in html.split(f'id="record-{record.pk}"')[1]
    svc.report_group(user=users["reviewer2"], record=record, study=a, expected="")
    resp = c.post(group, {"study": b.pk, "shown": ""}, follow=True)
    assert resp.status_code == 200
    text = resp.content.decode()
    assert "Ravi Second grouped record" in text and "Badger et al. 2002, was not saved" in text
    assert Record.objects.get(pk=record.pk).study_id == a.pk
    row = text.split(f'id="record-{record.pk}"')[1].split("</tr>")[0]
    assert f'name="shown" value="{a.pk}"' in row  # the page now shows the saved study
    assert c.post(group, {"study": b.pk, "shown": a.pk}).status_code == 302
    assert Record.objects.get(pk=record.pk).study_id == b.pk
    for junk in ("x", "99999999999999999999"):
        assert c.post(group, {"study": junk, "shown": ""}).status_code == 404
