import pytest
from django.urls import reverse

from cmoc.models import CMOC, CMOCElement, Concept
from studies.models import Study

pytestmark = pytest.mark.django_db


def _populate(review, n):
    concept = Concept.objects.get_or_create(review=review, label="Trust")[0]
    for i in range(n):
        Study.objects.create(review=review, label=f"Study {review.pk}-{i}-{Study.objects.count()}")
        c = CMOC.objects.create(review=review, code=f"X{CMOC.objects.count()}", statement=f"S{i}")
        CMOCElement.objects.create(cmoc=c, role="context", concept=concept, direction="increase")


def review_urls(review):
    cmoc = CMOC.objects.filter(review=review).first()
    study = Study.objects.filter(review=review).first()
    return [
        reverse("review-dashboard", args=[review.pk]),
        reverse("study-list", args=[review.pk]),
        reverse("study-detail", args=[review.pk, study.pk]),
        reverse("cmoc-list", args=[review.pk]),
        reverse("cmoc-detail", args=[review.pk, cmoc.pk]),
        reverse("codebook", args=[review.pk]),
    ]


def test_login_required_everywhere(client, review):
    _populate(review, 1)
    for url in review_urls(review) + [reverse("review-list")]:
        resp = client.get(url)
        assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]


def test_non_member_gets_404_on_every_review_page(client_for, review):
    _populate(review, 1)
    client = client_for("outsider")
    for url in review_urls(review):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("who", ["owner", "reviewer", "analyst", "viewer"])
def test_members_see_review_pages(client_for, review, who):
    _populate(review, 2)
    client = client_for(who)
    for url in review_urls(review):
        assert client.get(url).status_code == 200, url
    assert review.title in client.get(reverse("review-list")).content.decode()


def test_list_pages_have_constant_query_counts(client_for, review, django_assert_max_num_queries):
    client = client_for("reviewer")
    _populate(review, 3)
    counts = {}
    for n in (3, 40):
        _populate(review, n - 3 if n > 3 else 0)
        for name in ("study-list", "cmoc-list", "codebook", "review-dashboard"):
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as ctx:
                assert client.get(reverse(name, args=[review.pk])).status_code == 200
            counts.setdefault(name, []).append(len(ctx.captured_queries))
    for name, (small, large) in counts.items():
        assert small == large, f"{name}: {small} queries with little data, {large} with more"


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("reporting/", "Exports"),
        ("reporting/prisma/", "PRISMA 2020"),
        ("reporting/rameses/", "RAMESES"),
        ("reporting/rameses/rameses2/", "RAMESES"),
        ("reporting/api/", "API access"),
        ("reporting/backup/", "Backup and restore"),
    ],
)
def test_reporting_tabs_mark_the_page_you_are_on(client_for, review, path, current):
    """All five reporting tabs looked alike: nothing said which page was open."""
    import re

    html = client_for("owner").get(f"/reviews/{review.pk}/{path}").content.decode()
    nav = html[html.index('aria-label="Reporting"') :]
    nav = nav[: nav.index("</nav>")]
    assert re.findall(r'aria-current="page">([^<]+)</a>', nav) == [current]
