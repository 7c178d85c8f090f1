"""NUL characters never reach a query: PostgreSQL cannot hold them (a 500 before)."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from synthesis.middleware import NulCharactersMiddleware


def through(request):
    seen = {}

    def view(req):
        seen["GET"], seen["POST"] = req.GET, req.POST
        return None

    NulCharactersMiddleware(view)(request)
    return seen


def test_nul_dropped_from_query_and_form_values_and_keys():
    rf = RequestFactory()
    seen = through(rf.get("/x/", {"q": "tr\x00ust", "page": "2"}))
    assert seen["GET"]["q"] == "trust" and seen["GET"]["page"] == "2"
    seen = through(rf.post("/x/", {"note": "a\x00b", "k\x00": ["1\x00", "2"]}))
    assert seen["POST"]["note"] == "ab"
    assert seen["POST"].getlist("k") == ["1", "2"]


def test_clean_requests_keep_their_own_query_dicts():
    rf = RequestFactory()
    request = rf.get("/x/", {"q": "trust"})
    original = request.GET
    assert through(request)["GET"] is original


@pytest.mark.django_db
def test_a_nul_in_a_search_is_searched_without_it(client_for, review):
    resp = client_for("reviewer").get(reverse("cmoc-list", args=[review.pk]), {"q": "tr\x00ust"})
    assert resp.status_code == 200
    assert 'value="trust"' in resp.content.decode()
