"""The CMOC list exports exactly the rows its filters show, as the CMOC table."""

import csv
import io

import pytest
from django.urls import reverse

from cmoc.services import coding as svc
from synthesis.models import ReviewEvent


@pytest.fixture
def cmocs(users, review):
    u = users["reviewer"]
    made = [
        svc.cmoc_create(user=u, review=review, code="A1", statement="Shared goals build trust.",
                        context="Mandated partnership", outcome="Commitment"),
        svc.cmoc_create(user=u, review=review, code="A2", statement="Slow pace erodes trust.",
                        outcome="Withdrawal"),
        svc.cmoc_create(user=u, review=review, code="B7", statement="Leadership legitimacy.",
                        outcome="Buy-in"),
    ]  # fmt: skip
    svc.cmoc_check(user=users["reviewer2"], cmoc=made[1])
    return made


def _rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_export_follows_the_filters(review, cmocs, client_for):
    c = client_for("analyst")
    url = reverse("cmoc-list-export", args=[review.pk, "csv"])
    rows = _rows(c.get(url, {"q": "trust"}))
    assert rows[0][:2] == ["Code", "Statement"]
    assert [r[0] for r in rows[1:]] == ["A1", "A2"]
    rows = _rows(c.get(url, {"q": "trust", "checked": "yes"}))
    assert [r[0] for r in rows[1:]] == ["A2"] and rows[1][-1] == "yes"
    assert [r[0] for r in _rows(c.get(url))[1:]] == ["A1", "A2", "B7"]
    assert _rows(c.get(url, {"q": "nothing-like-this"})) == [rows[0]]
    # junk filter values are ignored, as on the list page
    assert [r[0] for r in _rows(c.get(url, {"phase": "x", "relation": "??"}))[1:]] == [
        "A1", "A2", "B7",
    ]  # fmt: skip
    event = ReviewEvent.objects.filter(verb="export.download").first()
    assert "cmocs.csv (3 selected" in event.summary


def test_list_links_to_its_own_selection(review, cmocs, client_for):
    page = client_for("analyst").get(reverse("cmoc-list", args=[review.pk]), {"q": "trust"})
    html = page.content.decode()
    assert f'href="/reviews/{review.pk}/cmocs/export.csv?q=trust"' in html
    assert 'id="export-these-xlsx"' in html
    # viewers may not export: no link
    page = client_for("viewer").get(reverse("cmoc-list", args=[review.pk]), {"q": "trust"})
    assert "export-these" not in page.content.decode()


def test_xlsx_and_permissions(review, cmocs, client_for):
    url = reverse("cmoc-list-export", args=[review.pk, "xlsx"])
    r = client_for("reviewer").get(url, {"checked": "no"})
    assert r.status_code == 200 and b"".join(r.streaming_content)[:2] == b"PK"
    assert client_for("viewer").get(url).status_code == 403
    assert client_for("outsider").get(url).status_code == 404
    bad = reverse("cmoc-list-export", args=[review.pk, "pdf"])
    assert client_for("analyst").get(bad).status_code == 404


def test_large_selection_is_not_offered_as_workbook(review, cmocs, client_for, monkeypatch):
    from cmoc import views

    monkeypatch.setattr(views, "SELECTION_XLSX_LIMIT", 2)
    c = client_for("analyst")
    r = c.get(reverse("cmoc-list-export", args=[review.pk, "xlsx"]), {"q": "trust lead"})
    assert r.status_code == 200  # nothing matches "lead": 0 rows fit
    r = c.get(reverse("cmoc-list-export", args=[review.pk, "xlsx"]))
    assert r.status_code == 302 and r.url.startswith(reverse("cmoc-list", args=[review.pk]))
    page = c.get(r.url).content.decode()
    assert "too many for a workbook" in page and 'id="export-these-xlsx"' not in page


@pytest.mark.parametrize("field", ["phase", "concept", "study"])
def test_an_id_too_large_for_the_database_filters_nothing_out(review, cmocs, client_for, field):
    # A 20-digit id in a foreign-key filter was an OverflowError (a 500) on SQLite.
    c = client_for("analyst")
    huge = "9" * 20
    page = c.get(reverse("cmoc-list", args=[review.pk]), {field: huge})
    assert page.status_code == 200
    assert all(code in page.content.decode() for code in ("A1", "A2", "B7"))
    url = reverse("cmoc-list-export", args=[review.pk, "csv"])
    assert [r[0] for r in _rows(c.get(url, {field: huge}))[1:]] == ["A1", "A2", "B7"]
