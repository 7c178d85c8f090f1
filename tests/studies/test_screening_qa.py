"""Found in an exploratory pass over the screening pages, as reviewers use them."""

import re

import pytest
from django.urls import reverse

from studies.models import ExclusionReason, ScreeningDecision, ScreeningStage
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
