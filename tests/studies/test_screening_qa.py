"""Found in an exploratory pass over the screening pages, as reviewers use them."""

import re

import pytest
from django.urls import reverse

from studies.models import ExclusionReason, Record, ScreeningDecision, ScreeningStage, Study
from studies.services import screening as svc
from tests.studies.screening_fixtures import make_records, make_stages


@pytest.fixture
def stages(review, users):
    review.dual_fraction = 1
    review.save()
    return make_stages(review, users["owner"])


def url(name, review, *args):
    return reverse(name, args=[review.pk, *args])


def _strict_stage(stage: ScreeningStage) -> ExclusionReason:
    """The title/abstract stage with exclusion reasons required, like a full-text stage."""
    ScreeningStage.objects.filter(pk=stage.pk).update(reason_required=True)
    return ExclusionReason.objects.create(stage=stage, label="Wrong setting", order=1)


def test_a_refused_decision_keeps_the_note_and_reason_typed(client_for, review, stages):
    ta = stages[0]
    reason = _strict_stage(ta)
    r = make_records(review, 1)[0]
    c = client_for("reviewer")
    c.defaults["HTTP_HX_REQUEST"] = "true"
    # exclusion without its required reason: refused, and the note is still there to resubmit
    html = c.post(
        url("screening-decide", review, ta.pk),
        {"record": r.pk, "decision": "exclude", "note": "single hospital, no partner"},
    ).content.decode()
    assert 'id="screen-error"' in html
    assert ">single hospital, no partner</textarea>" in html
    # a refused post with a reason picked keeps that reason ticked
    html = c.post(
        url("screening-decide", review, ta.pk),
        {"record": r.pk, "decision": "", "reason": reason.pk, "note": "n"},
    ).content.decode()
    assert 'id="screen-error"' in html
    assert re.search(rf'value="{reason.pk}"[^>]* checked>', html)
    assert not ScreeningDecision.objects.exists()


def _conflict(stage, users, record):
    svc.decision_record(user=users["reviewer"], stage=stage, record=record, decision="include")
    svc.decision_record(user=users["reviewer2"], stage=stage, record=record, decision="exclude")


def test_a_refused_resolution_keeps_what_was_entered(client_for, review, stages, users):
    ta = stages[0]
    _strict_stage(ta)
    r = make_records(review, 1)[0]
    _conflict(ta, users, r)
    resp = client_for("owner").post(
        url("screening-conflict", review, ta.pk, r.pk),
        {"decision": "exclude", "note": "agreed on the call: one organisation only"},
    )
    html = resp.content.decode()
    assert resp.status_code == 200 and 'role="alert"' in html
    assert re.search(r'value="exclude"[^>]* checked', html)
    assert ">agreed on the call: one organisation only</textarea>" in html


def test_changing_a_resolution_starts_from_its_reason(client_for, review, stages, users):
    ta = stages[0]
    reason = _strict_stage(ta)
    r = make_records(review, 1)[0]
    _conflict(ta, users, r)
    svc.resolution_record(user=users["owner"], stage=ta, record=r, decision="exclude",
                          reason=reason, note="n")  # fmt: skip
    html = client_for("owner").get(url("screening-conflict", review, ta.pk, r.pk)).content
    # resubmitting the form unchanged must not drop the reason (or be refused for lacking it)
    assert f'<option value="{reason.pk}" selected>'.encode() in html


def test_a_voter_is_told_who_resolves_instead_of_getting_a_form(client_for, review, stages, users):
    ta = stages[0]
    r = make_records(review, 1)[0]
    _conflict(ta, users, r)
    html = client_for("reviewer").get(url("screening-conflict", review, ta.pk, r.pk)).content
    assert b'id="resolve-form"' not in html
    assert b"resolved by the owner or a third reviewer" in html
    html = client_for("owner").get(url("screening-conflict", review, ta.pk, r.pk)).content
    assert b'id="resolve-form"' in html


def test_conflicts_heading_counts_the_list_when_it_is_all_on_the_page(
    client_for, review, stages, users
):
    ta = stages[0]
    a, b = make_records(review, 2)
    _conflict(ta, users, a)
    o = client_for("owner")
    o.get(url("screening-progress", review, ta.pk))  # the stage counts are cached: 1 conflict
    _conflict(ta, users, b)
    html = o.get(url("screening-conflicts", review, ta.pk)).content.decode()
    assert html.count('<span class="badge bad">open</span>') == 2
    assert ">2 open</span>" in html


def _sought(review, users, n):
    review.dual_fraction = 0
    review.save()
    ta, _ft = make_stages(review, users["owner"])
    recs = make_records(review, n, start=500)
    for r in recs:
        svc.decision_record(user=users["reviewer"], stage=ta, record=r, decision="include")
    return recs


def test_fulltext_rows_without_a_study_do_not_preselect_one(client_for, review, users):
    recs = _sought(review, users, 2)
    study = Study.objects.create(review=review, label="Aardvark et al. 2001")
    Record.objects.filter(pk=recs[1].pk).update(study=study)
    c = client_for("reviewer")
    html = c.get(url("screening-fulltexts", review)).content.decode()
    row = html.split(f'id="record-{recs[0].pk}"')[1].split("</tr>")[0]
    # a stray "Group" click would have attached the report to the first study in the list
    assert '<option value="" selected>' in row
    grouped = html.split(f'id="record-{recs[1].pk}"')[1].split("</tr>")[0]
    assert f'<option value="{study.pk}" selected>' in grouped
    resp = c.post(url("screening-report-group", review, recs[0].pk), {"study": ""})
    assert resp.status_code == 302  # a message, not a 404 page
    assert Record.objects.get(pk=recs[0].pk).study_id is None


def test_fulltext_actions_return_to_the_filter_and_page_left(client_for, review, users):
    recs = _sought(review, users, 2)
    c = client_for("reviewer")
    html = c.get(url("screening-fulltexts", review), {"status": "sought", "page": "1"}).content
    assert b'name="back" value="status=sought&amp;page=1"' in html
    back = {"back": "status=sought&page=1"}
    resp = c.post(url("screening-not-retrieved", review, recs[0].pk), back)
    assert resp["Location"].endswith(f"?status=sought&page=1#record-{recs[0].pk}")
    resp = c.post(url("screening-fulltext-upload", review, recs[1].pk), back)  # no file chosen
    assert resp["Location"].endswith(f"?status=sought&page=1#record-{recs[1].pk}")
    # only the list's own parameters go back into the address
    resp = c.post(url("screening-not-retrieved", review, recs[1].pk), {"back": "next=//evil"})
    assert resp["Location"] == url("screening-fulltexts", review) + f"#record-{recs[1].pk}"


def test_an_empty_fulltext_filter_does_not_claim_nothing_is_sought(client_for, review, users):
    (r,) = _sought(review, users, 1)
    c = client_for("reviewer")
    assert f'id="record-{r.pk}"'.encode() in c.get(url("screening-fulltexts", review)).content
    html = c.get(url("screening-fulltexts", review), {"status": "not_retrieved"}).content
    assert b"No reports sought yet" not in html
    assert b"No reports with this status" in html
