"""The full-text page: which records are reports sought, in what order, in how many queries,
and the partial index that keeps them out of every import's writes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studies import selectors_screening as sel
from studies.models import Document, Record, ScreeningDecision
from tests.studies.screening_fixtures import make_records, make_stages

pytestmark = pytest.mark.django_db

SOUGHT, RETRIEVED, NOT_RETRIEVED = "sought", "retrieved", "not_retrieved"
PAGE_QUERIES = 22


def set_status(records, status):
    Record.objects.filter(pk__in=[r.pk for r in records]).update(fulltext_status=status)


def test_only_reports_sought_in_import_order_and_by_status(review):
    recs = make_records(review, 8)
    set_status(recs[5:6], SOUGHT)
    set_status([recs[1], recs[6]], RETRIEVED)
    set_status(recs[3:4], NOT_RETRIEVED)
    Record.objects.filter(pk=recs[7].pk).update(fulltext_status=SOUGHT, duplicate_of=recs[5])

    def ids(**kw):
        return [r.pk for r in sel.reports_sought(review=review, **kw)]

    assert ids() == [recs[1].pk, recs[3].pk, recs[5].pk, recs[6].pk]  # not the duplicate
    assert ids(status=RETRIEVED) == [recs[1].pk, recs[6].pk]
    assert ids(status=NOT_RETRIEVED) == [recs[3].pk]
    assert ids(status="nonsense") == ids()  # an unknown filter shows everything sought


def test_reports_sought_of_another_review_stay_out(review, make_user):
    from synthesis.models import Review

    other = Review.objects.create(title="Other review")
    set_status(make_records(other, 2), SOUGHT)
    mine = make_records(review, 2, start=10)
    set_status(mine[:1], SOUGHT)
    assert [r.pk for r in sel.reports_sought(review=review)] == [mine[0].pk]


def _page_queries(client_for, review, users, n):
    review.dual_fraction = 0  # one include vote is enough
    review.save()
    ta, ft = make_stages(review, users["owner"])
    recs = make_records(review, n, start=1000 * n)
    # Included at title-abstract: the page's sync makes them reports sought.
    ScreeningDecision.objects.bulk_create(
        ScreeningDecision(record=r, stage=ta, reviewer=users["reviewer"], decision="include")
        for r in recs
    )
    ScreeningDecision.objects.bulk_create(
        ScreeningDecision(record=r, stage=ft, reviewer=users["reviewer"], decision="exclude")
        for r in recs[::2]
    )
    for r in recs[::3]:
        Document.objects.create(review=review, record=r, title=f"Report {r.pk}", text="x")
    client = client_for("reviewer")
    client.get(reverse("screening-fulltexts", args=[review.pk]))  # first visit: the sync writes
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(reverse("screening-fulltexts", args=[review.pk]))
    assert resp.status_code == 200
    html = resp.content.decode()
    for r in recs:
        assert f'id="record-{r.pk}"' in html
    return len(ctx.captured_queries), html, recs


@pytest.mark.parametrize("n", [3, 30])
def test_fulltext_page_queries_do_not_grow_with_the_page(client_for, review, users, n):
    queries, _, _ = _page_queries(client_for, review, users, n)
    # session, user, review, role, stages; the sync (savepoint, role, votes, resolutions,
    # two id lists); the page's count and rows, documents, full-text votes and resolutions,
    # three status counts, studies
    assert queries == PAGE_QUERIES


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
def test_fulltext_list_walks_its_partial_index(review):
    # As in a real review, few of many records are sought: the partial index is then the
    # clear choice whatever the other tests left in the table's statistics.
    set_status(make_records(review, 1500)[::150], SOUGHT)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE studies_record")
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = sel.reports_sought(review=review).explain()
    assert "record_fulltext_queue" in plan
    plan = sel.reports_sought(review=review, status=RETRIEVED).explain()
    assert "record_fulltext_queue" in plan
