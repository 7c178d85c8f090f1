"""Screening journeys in real headless Chromium: keyboard-only screening, blind dual
screening with a conflict that appears only after both decided, resolution, agreement."""

import pytest
from playwright.sync_api import expect

from studies.models import ScreeningDecision, ScreeningResolution
from tests.studies.screening_fixtures import make_records, make_stages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def screening(review, users):
    review.dual_fraction = 1
    review.save()
    ta, ft = make_stages(review, users["owner"])
    records = make_records(review, 6)
    return ta, records


def screen_url(live_server, review, stage):
    return f"{live_server.url}/reviews/{review.pk}/screening/{stage.pk}/"


def wait_record(page, record):
    page.wait_for_selector(f'#panel [data-record-id="{record.pk}"]')


def test_screen_five_records_by_keyboard_only(page, login, live_server, review, screening, users):
    ta, recs = screening
    login("reviewer")
    page.goto(screen_url(live_server, review, ta))
    wait_record(page, recs[0])
    page.keyboard.press("i")
    wait_record(page, recs[1])
    page.keyboard.press("2")  # reason 2, then exclude
    page.keyboard.press("e")
    wait_record(page, recs[2])
    page.keyboard.press("m")
    wait_record(page, recs[3])
    page.keyboard.press("n")
    page.keyboard.type("borderline setting")
    page.keyboard.press("Escape")
    page.keyboard.press("e")
    wait_record(page, recs[4])
    page.keyboard.press("ArrowLeft")  # back to the record just decided
    wait_record(page, recs[3])
    assert "Exclude" in page.inner_text("#my-vote")
    page.keyboard.press("ArrowRight")
    wait_record(page, recs[4])
    page.keyboard.press("i")
    wait_record(page, recs[5])
    page.keyboard.press("u")  # undo the last decision: back to record 4 with no vote
    wait_record(page, recs[4])
    assert page.locator("#my-vote").count() == 0
    page.keyboard.press("i")
    wait_record(page, recs[5])
    page.wait_for_function(
        "document.querySelector('#p-mine') && document.querySelector('#p-mine').textContent.trim() === '5'"
    )
    votes = dict(
        ScreeningDecision.objects.filter(reviewer=users["reviewer"]).values_list(
            "record_id", "decision"
        )
    )
    assert votes == {recs[0].pk: "include", recs[1].pk: "exclude", recs[2].pk: "maybe",
                     recs[3].pk: "exclude", recs[4].pk: "include"}  # fmt: skip
    d1 = ScreeningDecision.objects.get(reviewer=users["reviewer"], record=recs[1])
    assert d1.reason.label == list(ta.reasons.order_by("order"))[1].label
    assert ScreeningDecision.objects.get(reviewer=users["reviewer"], record=recs[3]).note == (
        "borderline setting"
    )


def test_blind_conflict_resolution_and_agreement(signed_in, live_server, review, screening, users):
    ta, recs = screening
    a, b = signed_in("reviewer"), signed_in("reviewer2")
    a.goto(screen_url(live_server, review, ta))
    wait_record(a, recs[0])
    a.keyboard.press("i")
    wait_record(a, recs[1])

    b.goto(screen_url(live_server, review, ta))
    wait_record(b, recs[0])
    # B has not decided: neither A's vote nor a conflict is visible
    assert b.locator(".other-vote").count() == 0
    assert b.locator("#conflict-flag").count() == 0
    assert "reviewer:" not in b.inner_text("#panel")
    b.keyboard.press("e")
    wait_record(b, recs[1])
    b.keyboard.press("ArrowLeft")
    wait_record(b, recs[0])
    b.wait_for_selector("#conflict-flag")
    assert "Include" in b.inner_text(".other-vote")

    o = signed_in("owner")
    o.goto(f"{live_server.url}/reviews/{review.pk}/screening/{ta.pk}/conflicts/")
    o.click(f'#conflicts a[href$="/conflicts/{recs[0].pk}/"]')
    # the click returns once navigation starts, not when the page has loaded
    expect(o.locator(".card.vote")).to_have_count(2)
    o.check("input[name=decision][value=include]")
    o.fill("#note", "Meets the collaboration criterion")
    o.click("#resolve-form button")
    o.wait_for_url("**/conflicts/")
    assert "No conflicts" in o.inner_text("#conflicts")
    res = ScreeningResolution.objects.get(record=recs[0], stage=ta)
    assert res.decision == "include" and res.resolved_by == users["owner"]
    assert ScreeningDecision.objects.filter(record=recs[0]).count() == 2

    o.goto(f"{live_server.url}/reviews/{review.pk}/screening/{ta.pk}/agreement/")
    assert o.inner_text("#ag-n") == "1"
    assert o.inner_text("#ag-po") == "0.000"
    assert o.locator("#agreement-pairs tbody tr").count() == 1


def test_a_refused_exclusion_keeps_the_note_for_the_next_key(
    page, login, live_server, review, screening, users
):
    """Reason required: `e` without one is refused; the note typed survives, `1` then `e`
    saves the exclusion with that note."""
    ta, recs = screening
    ta.reason_required = True
    ta.save(update_fields=["reason_required"])
    login("reviewer")
    page.goto(screen_url(live_server, review, ta))
    wait_record(page, recs[0])
    page.keyboard.press("n")
    page.keyboard.type("one provider only")
    page.keyboard.press("Escape")
    page.keyboard.press("e")
    page.wait_for_selector("#screen-error")
    assert page.input_value("#note") == "one provider only"
    page.keyboard.press("1")
    page.keyboard.press("e")
    wait_record(page, recs[1])
    vote = ScreeningDecision.objects.get(reviewer=users["reviewer"], record=recs[0])
    assert (vote.decision, vote.note) == ("exclude", "one provider only")
