"""Browser journey: after a few decisions, retraining puts likely-relevant records first
with a score and terms, and the stopping-guidance panel appears."""

import pytest

from studies.models import Record, ScreeningDecision, ScreeningStage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _jobs_inline(monkeypatch):
    monkeypatch.setattr("django_q.conf.Conf.SYNC", True)


def test_retrain_orders_queue_and_shows_stopping_guidance(live_server, page, login, review, users):
    stage = ScreeningStage.objects.create(review=review, kind="title_abstract", name="TA")
    # Import order puts the irrelevant records first; relevant ones come last.
    recs = [
        Record(review=review, title=f"Randomised drug trial of statin dose {i}", position=i)
        for i in range(12)
    ] + [
        Record(
            review=review,
            title=f"Realist review of university and health service collaboration {i}",
            position=100 + i,
        )
        for i in range(4)
    ]
    recs = Record.objects.bulk_create(recs)
    for r, d in [(recs[12], "include"), (recs[0], "exclude"), (recs[1], "exclude")]:
        ScreeningDecision.objects.create(
            record=r, stage=stage, reviewer=users["reviewer"], decision=d
        )

    login("reviewer")
    page.goto(f"{live_server.url}/reviews/{review.pk}/screening/stages/{stage.pk}/ranking/")
    assert page.locator("#ranking-queue").inner_text().count("No ranked records yet") == 1
    page.get_by_role("button", name="Retrain now").click()
    # The panel swaps in place (htmx) and shows the finished run.
    page.wait_for_selector("#ranking-n-ranked")
    assert page.locator("#ranking-n-ranked").inner_text() == "13"
    page.reload()
    first = page.locator("#ranking-queue tbody tr").first
    assert "Realist review" in first.inner_text()
    score = float(first.locator("td.score").inner_text())
    assert 0 < score <= 1
    assert first.locator(".chip").count() >= 1
    guidance = page.locator("#stopping-guidance")
    assert guidance.is_visible()
    assert "Estimates, not guarantees" in guidance.inner_text()
    assert "Knee method" in guidance.inner_text()
    assert page.locator("#stopping-since").inner_text() == "2"
    # Reviewers cannot exclude the rest; that is the owner's call.
    assert page.locator("#exclude-remaining-link").count() == 0
