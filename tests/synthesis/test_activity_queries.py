"""Query counts of the activity page, its CSV and the per-object History lists, at two sizes:
the same pinned number at both. Every event has an actor of its own, so a lookup per row
would show. Review pages start with 4 queries that resolve the review: session, user,
review, role."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from cmoc.models import CMOC
from studies.models import ImportBatch, Search
from synthesis.models import Membership, ReviewEvent
from synthesis.selectors_activity import HISTORY_LIMIT
from tests.query_counts import SIZES, measure

pytestmark = pytest.mark.django_db


def grow(review, n: int) -> dict:
    cmoc = CMOC.objects.create(review=review, code="A1", statement="Trust grows")
    search = Search.objects.create(review=review, source="MEDLINE", kind="database")
    batch = ImportBatch.objects.create(
        review=review, search=search, filename="m.ris", status="done"
    )
    for i in range(n):
        member = get_user_model().objects.create_user(username=f"coder{i}", password="x")
        Membership.objects.create(review=review, user=member, role="reviewer")
        for target, verb in [
            (cmoc, "cmoc.update"),
            (batch, "import.run"),
            (search, "search.update"),
        ]:
            ReviewEvent.objects.create(
                review=review, actor=member, verb=verb, target_type=target._meta.model_name,
                target_id=target.pk, summary=f"change {i}",
                data={"old": {"statement": f"s{i}"}, "new": {"statement": f"s{i + 1}"}},
            )  # fmt: skip
        # another reviewer's vote: hidden under blind screening, in every count
        ReviewEvent.objects.create(review=review, actor=member, verb="screening.decide")
    ReviewEvent.objects.bulk_create(
        [ReviewEvent(review=review, verb="review.update", summary=f"u{i}") for i in range(60)]
    )
    return {"cmoc": cmoc, "batch": batch, "search": search}


# members (the filter's choices), the page's events with their actors; a first page that is
# not full needs no count
ACTIVITY = 2
COUNT = 1
PINNED = {
    "activity": 4 + ACTIVITY + COUNT,  # a full page (the 60 events of the owner)
    "activity-filtered": 4 + ACTIVITY,
    "activity-older": 4 + ACTIVITY + 1 + COUNT,  # the cursor event's time
    "activity-newer": 4 + ACTIVITY + 1 + COUNT,
    "activity-csv": 4 + 1 + 1 + 1,  # members, the audit event, the events (one chunk)
    "search-edit": 4 + 2 + 1,  # search, phases, its history
    # as pinned in tests/cmoc and tests/studies, the history's one query included
    "cmoc-detail": 12,
    "batch": 7,
}


@pytest.mark.parametrize("n", SIZES)
def test_activity_queries_do_not_grow_with_the_rows(client_for, review, users, n):
    data = grow(review, n)
    r = review.pk
    first = ReviewEvent.objects.filter(review=review).order_by("id").first()
    last = ReviewEvent.objects.filter(review=review).order_by("id").last()
    url = reverse("activity", args=[r])
    pages = {
        "activity": url,
        "activity-filtered": f"{url}?area=coding&actor={users['reviewer'].pk}&since=2020-01-01"
        f"&until=2999-01-01&q=change&target_type=cmoc&target_id={data['cmoc'].pk}",
        "activity-older": f"{url}?before={last.pk}",
        "activity-newer": f"{url}?after={first.pk}",
        "activity-csv": reverse("activity-csv", args=[r]) + "?area=coding",
        "search-edit": reverse("identification-search-edit", args=[r, data["search"].pk]),
        "cmoc-detail": reverse("cmoc-detail", args=[r, data["cmoc"].pk]),
        "batch": reverse("identification-batch", args=[r, data["batch"].pk]),
    }
    counts, bodies = measure(client_for("owner"), pages)
    assert counts == {name: (200, q) for name, q in PINNED.items()}
    assert "screened a record" not in bodies["activity"]
    assert f"coder{n - 1}" in bodies["activity-older"]
    assert bodies["activity-csv"].count("cmoc.update") == n
    for name in ("search-edit", "cmoc-detail", "batch"):
        assert f"change {n - 1}" in bodies[name], name
        # at most HISTORY_LIMIT rows, then a link to the rest
        assert ("Full history" in bodies[name]) == (n > HISTORY_LIMIT), name
        assert "change 0" not in bodies[name] or n <= HISTORY_LIMIT
