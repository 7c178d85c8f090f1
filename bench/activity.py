"""Benchmark: the activity page (audit trail) and its CSV export at 200k events.

    .venv/bin/python bench/activity.py [--events 200000] [--repeat 30] [--reuse]
    DATABASE_URL=postgres://postgres@127.0.0.1:54330/activity_bench .venv/bin/python bench/activity.py

Builds a throwaway review (SQLite under /tmp, or the PostgreSQL database named by
DATABASE_URL, which is flushed first) with 8 members and N events spread over a year (the
verbs of the real services in realistic shares, a quarter of them screening votes, with
summaries, targets and old/new data; blind screening on), runs ANALYZE, then requests
through the real views, as the owner: the first page, filtered pages (member, a rare area,
words, a date range, one object), a deep page (keyset cursor half-way down), the History on
a CMOC page, and streams the CSV export (all visible events, then one member's).
Prints the median and p95 of each page and the CSV's time and size.
"""

import argparse
import datetime as dt
import random
import statistics
import sys
import time

from _django import database_empty, django_setup  # noqa: E402

DB, ON_PG = django_setup("activity")

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

# (verb, target type, share): roughly a busy review's mix
MIX = [
    ("screening.decide", "screeningdecision", 22), ("screening.change", "screeningdecision", 2),
    ("screening.undo", "", 1), ("screening.resolve", "screeningresolution", 1),
    ("import.run", "importbatch", 1), ("duplicate.confirm", "duplicatecandidate", 8),
    ("duplicate.reject", "duplicatecandidate", 3), ("fulltext.upload", "document", 4),
    ("appraisal.create", "appraisal", 8), ("extraction.consensus", "study", 4),
    ("excerpt.create", "excerpt", 14), ("cmoc.create", "cmoc", 6), ("cmoc.update", "cmoc", 12),
    ("evidence.add", "cmoc", 8), ("cmoc.check", "cmoc", 2), ("concept.rename", "concept", 1),
    ("cmoc_link.create", "cmoclink", 2), ("export.download", "", 1),
]  # fmt: skip


def build(n: int):
    from django.contrib.auth import get_user_model

    from synthesis.models import Membership, Review, ReviewEvent

    User = get_user_model()
    owner = User.objects.create_user("bench", password="bench-pw")
    review = Review.objects.create(title="Bench review", blind_screening=True)
    Membership.objects.create(review=review, user=owner, role="owner")
    members = [owner]
    for i in range(7):
        u = User.objects.create_user(f"member{i}", password="x")
        Membership.objects.create(review=review, user=u, role="reviewer")
        members.append(u)
    rng = random.Random(7)
    verbs = [(v, t) for v, t, share in MIX for _ in range(share)]
    start = dt.datetime(2025, 11, 1, tzinfo=dt.UTC)
    step = dt.timedelta(days=365) / n
    field = ReviewEvent._meta.get_field("created_at")
    field.auto_now_add = False  # the build sets the times itself: a year of work
    try:
        for lo in range(0, n, 5000):
            rows = []
            for i in range(lo, min(n, lo + 5000)):
                verb, target = rng.choice(verbs)
                tid = rng.randrange(1, 3000) if target else None
                rows.append(
                    ReviewEvent(
                        review=review, actor=rng.choice(members), verb=verb, target_type=target,
                        target_id=tid, created_at=start + step * i,
                        summary=f"{verb.split('.')[1]} {target or 'review'} {tid} — item {i}",
                        data={"old": {"statement": f"v{i}", "phase": 1},
                              "new": {"statement": f"v{i + 1}", "phase": 2}, "record": tid},
                    )
                )  # fmt: skip
            with transaction.atomic():
                ReviewEvent.objects.bulk_create(rows)
            print(f"  built {min(n, lo + 5000)} events", file=sys.stderr, end="\r")
    finally:
        field.auto_now_add = True
    print(file=sys.stderr)
    return review, owner


def timed(client, url: str, repeat: int) -> tuple[float, float, int, int]:
    """(median ms, p95 ms, queries, status) of `repeat` GETs of a page."""
    times = []
    for _ in range(repeat):
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            resp = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, len(ctx.captured_queries), resp.status_code


def stream(client, url: str) -> tuple[float, int, float]:
    t0 = time.perf_counter()
    resp = client.get(url)
    lines, size = 0, 0
    for chunk in resp.streaming_content:
        lines += 1
        size += len(chunk)
    return time.perf_counter() - t0, lines - 1, size / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--reuse", action="store_true", help="Reuse the database of a previous run")
    args = ap.parse_args()
    from django.contrib.auth import get_user_model

    from synthesis.models import Review, ReviewEvent

    if args.reuse and (ON_PG or DB.exists()):
        review, owner = Review.objects.get(), get_user_model().objects.get(username="bench")
    else:
        database_empty(DB, ON_PG)
        t0 = time.perf_counter()
        review, owner = build(args.events)
        print(f"build: {args.events} events in {time.perf_counter() - t0:.1f} s")
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    n = ReviewEvent.objects.filter(review=review).count()
    print(f"engine: {connection.vendor}; events: {n}")

    client = Client()
    client.force_login(owner)
    r = review.pk
    base = f"/reviews/{r}/activity/"
    member = get_user_model().objects.get(username="member3")
    ids = list(
        ReviewEvent.objects.filter(review=review).order_by("id").values_list("id", flat=True)
    )
    middle = ids[len(ids) // 2]
    cmoc_event = ReviewEvent.objects.filter(review=review, target_type="cmoc").first()
    pages = {
        "first page": base,
        "member": f"{base}?actor={member.pk}",
        "area: codebook (1 %)": f"{base}?area=codebook",
        "area + member": f"{base}?area=coding&actor={member.pk}",
        "words (a rare summary)": f"{base}?q=item%20123456",
        "words (common)": f"{base}?q=cmoc",
        "date range (one week)": f"{base}?since=2026-03-01&until=2026-03-07",
        "one object": f"{base}?target_type=cmoc&target_id={cmoc_event.target_id}",
        "deep page (cursor half-way)": f"{base}?before={middle}",
    }
    client.get(base)  # warm up
    print(f"{'page':34} {'median':>9} {'p95':>9} queries")
    for name, url in pages.items():
        med, p95, q, status = timed(client, url, args.repeat)
        assert status == 200, (name, status)
        print(f"{name:34} {med:7.1f}ms {p95:7.1f}ms {q}")

    from synthesis.selectors_activity import object_history

    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        object_history(owner, review, target_type="cmoc", target_id=cmoc_event.target_id)
        times.append((time.perf_counter() - t0) * 1000)
    print(f"{'History of one CMOC (selector)':34} {statistics.median(times):7.1f}ms")

    for name, url in [
        ("CSV, every visible event", f"/reviews/{r}/activity/export.csv"),
        ("CSV, one member", f"/reviews/{r}/activity/export.csv?actor={member.pk}"),
    ]:
        secs, rows, mb = stream(client, url)
        print(f"{name}: {rows} rows, {mb:.1f} MB in {secs:.2f} s")


if __name__ == "__main__":
    main()
