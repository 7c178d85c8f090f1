"""Found in an exploratory pass over the identification pages."""

from django.urls import reverse

from studies.models import DuplicateCandidate
from tests.studies.screening_fixtures import make_records


def test_deciding_a_pair_updates_the_count_in_the_heading(client_for, review):
    recs = make_records(review, 6)
    pairs = [
        DuplicateCandidate.objects.create(
            review=review, record_a=recs[i], record_b=recs[i + 1], score=0.9, reason="similar"
        )
        for i in (0, 2, 4)
    ]
    c = client_for("reviewer")
    html = c.get(reverse("identification-duplicates", args=[review.pk])).content.decode()
    assert 'id="dup-count">3<' in html
    # the pair is swapped in place (it stays, to undo); the heading's count must follow it
    decide = reverse("identification-duplicate-decide", args=[review.pk, pairs[0].pk, "reject"])
    html = c.post(decide, {"status": "pending"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="dup-count" hx-swap-oob="true">2<' in html
    undo = reverse("identification-duplicate-decide", args=[review.pk, pairs[0].pk, "undo"])
    html = c.post(undo, {"status": "pending"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="dup-count" hx-swap-oob="true">3<' in html
