"""A pair kept as two records by one reviewer is not merged by another from a page opened
before that decision: the merge is refused with who decided, nothing merged (service and
page, no 500)."""

import pytest
from django.urls import reverse

from studies.models import DuplicateCandidate, Record
from studies.services import identification as svc
from tests.studies.screening_fixtures import make_records

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(review, users):
    users["reviewer2"].first_name, users["reviewer2"].last_name = "Ravi", "Second"
    users["reviewer2"].save()
    a, b = make_records(review, 2)
    return DuplicateCandidate.objects.create(
        review=review, record_a=a, record_b=b, score=0.9, reason="similar"
    )


def test_a_pair_kept_as_two_records_is_not_merged_over_that_decision(users, pair):
    svc.duplicate_reject(user=users["reviewer2"], candidate=pair)
    with pytest.raises(ValueError, match="Ravi Second kept these as two records on "):
        svc.duplicate_confirm(user=users["reviewer"], candidate=pair)
    assert DuplicateCandidate.objects.get(pk=pair.pk).status == "rejected"
    assert not Record.objects.filter(duplicate_of__isnull=False).exists()
    # Undone first, the merge applies.
    svc.duplicate_undo(user=users["reviewer"], candidate=pair)
    svc.duplicate_confirm(user=users["reviewer"], candidate=pair)
    assert DuplicateCandidate.objects.get(pk=pair.pk).status == "merged"


def test_the_duplicates_page_refuses_a_stale_merge(client_for, review, users, pair):
    client = client_for("reviewer")
    page = client.get(reverse("identification-duplicates", args=[review.pk])).content.decode()
    assert "Merge (keep the more complete)" in page
    svc.duplicate_reject(user=users["reviewer2"], candidate=pair)
    url = reverse("identification-duplicate-decide", args=[review.pk, pair.pk, "confirm"])
    resp = client.post(url, {"status": "pending"}, HTTP_HX_REQUEST="true")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "Ravi Second kept these as two records" in html and "Nothing was merged" in html
    assert 'data-action="undo"' in html  # the pair as it is now, to undo if need be
    assert DuplicateCandidate.objects.get(pk=pair.pk).status == "rejected"
