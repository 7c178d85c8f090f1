"""Replacing one's API token from the API page: the old token stops working, and the review's
audit trail says that it happened (never the token)."""

from django.urls import reverse
from rest_framework.authtoken.models import Token

from synthesis.models import ReviewEvent


def test_replace_token_audited_old_one_refused(review, users, client_for, client):
    c = client_for("analyst")
    url = reverse("reporting-api", args=[review.pk])
    assert c.post(url).status_code == 302
    first = Token.objects.get(user=users["analyst"]).key
    assert c.post(url).status_code == 302
    second = Token.objects.get(user=users["analyst"]).key
    assert first != second
    events = list(ReviewEvent.objects.filter(verb="api.token_replace").order_by("id"))
    assert [e.summary for e in events] == ["API token created", "API token replaced"]
    assert all(first not in str(e.data) + e.summary and second not in e.summary for e in events)
    c.logout()
    api = "/api/v1/reviews/"
    assert client.get(api, HTTP_AUTHORIZATION=f"Token {first}").status_code in (401, 403)
    assert client.get(api, HTTP_AUTHORIZATION=f"Token {second}").status_code == 200


def test_outsider_cannot_replace_a_token_here(review, users, client_for):
    r = client_for("outsider").post(reverse("reporting-api", args=[review.pk]))
    assert r.status_code == 404
    assert not Token.objects.filter(user=users["outsider"]).exists()
