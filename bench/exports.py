"""Benchmark: CMOC CSV export and API CMOC list at 100k CMOCs.

    .venv/bin/python bench/exports.py [--cmocs 100000] [--reuse]
    DATABASE_URL=postgres://postgres@127.0.0.1:54330/reporting_bench .venv/bin/python bench/exports.py

Builds a throwaway review (SQLite under /tmp, or the PostgreSQL database named by
DATABASE_URL, which is flushed first) (100k CMOCs, 3 elements and 1 evidence excerpt each),
then (1) streams the CMOC CSV export through the real view and measures time and the
growth of peak RSS, (2) requests the API CMOC list (cursor pages of 100) 200 times and
reports p50/p95 latency and the queries per request.
"""

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

from _django import database_empty, django_setup  # noqa: E402

DB, ON_PG = django_setup("exports")

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}


def _status_mb(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    """Peak RSS since the last `reset_peak()` (Linux VmHWM)."""
    return _status_mb("VmHWM")


def reset_peak() -> None:
    # Writing 5 to clear_refs resets the high-water mark so the export's own peak is measured.
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def build(n: int):
    from django.contrib.auth import get_user_model

    from cmoc.models import CMOC, CMOCElement, CMOCEvidence, Concept, Excerpt
    from studies.models import Document, Study
    from synthesis.models import Membership, Phase, Review

    user = get_user_model().objects.create_user("bench", password="bench-pw")
    review = Review.objects.create(title="Bench review")
    Membership.objects.create(review=review, user=user, role="analyst")
    phase = Phase.objects.create(review=review, name="Theory gleaning")
    concepts = Concept.objects.bulk_create(
        [Concept(review=review, label=f"Concept {i}") for i in range(200)]
    )
    studies = Study.objects.bulk_create(
        [Study(review=review, label=f"Study {i}") for i in range(500)]
    )
    docs = Document.objects.bulk_create(
        [Document(review=review, study=s, title=f"Doc {s.label}", text="x" * 2000) for s in studies]
    )
    batch = 5000
    for start in range(0, n, batch):
        with transaction.atomic():
            cmocs = CMOC.objects.bulk_create(
                [
                    CMOC(
                        review=review,
                        code=f"C{i:06}",
                        phase=phase,
                        source_count=i % 4,
                        statement=f"When partners share goals ({i}), trust grows and engagement rises.",
                        context="Partners share goals",
                        mechanism_resource="Joint planning",
                        mechanism_reasoning="Partners trust each other",
                        outcome="Engagement",
                        relation="affirms",
                    )  # fmt: skip
                    for i in range(start, min(n, start + batch))
                ]
            )
            excerpts = Excerpt.objects.bulk_create(
                [
                    Excerpt(
                        review=review,
                        document=docs[c.pk % len(docs)],
                        page=1 + c.pk % 12,
                        text="Trust grew when partners shared goals and met often.",
                        start=100,
                        end=152,
                    )  # fmt: skip
                    for c in cmocs
                ]
            )
            CMOCElement.objects.bulk_create(
                [
                    CMOCElement(
                        cmoc=c,
                        role=role,
                        concept=concepts[(c.pk * 7 + k) % 200],
                        direction="increase",
                    )
                    for c in cmocs
                    for k, role in enumerate(("context", "mechanism", "outcome"))
                ]
            )
            CMOCEvidence.objects.bulk_create(
                [CMOCEvidence(cmoc=c, excerpt=e) for c, e in zip(cmocs, excerpts, strict=True)]
            )
        print(f"  built {min(n, start + batch)} CMOCs", file=sys.stderr, end="\r")
    print(file=sys.stderr)
    return review, user


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cmocs", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--reuse", action="store_true", help="Reuse the database of a previous run")
    args = ap.parse_args()
    if args.reuse and (ON_PG or DB.exists()):
        from django.contrib.auth import get_user_model

        from synthesis.models import Review

        review, user = Review.objects.get(), get_user_model().objects.get(username="bench")
    else:
        database_empty(DB, ON_PG)
        t0 = time.perf_counter()
        review, user = build(args.cmocs)
        print(f"build: {args.cmocs} CMOCs in {time.perf_counter() - t0:.1f} s")
    # Planner statistics, as a live database has them (PostgreSQL's autovacuum; on SQLite
    # `ANALYZE`/`PRAGMA optimize`): without them SQLite sorts every supported CMOC for a
    # filtered page instead of walking the (review, code) index.
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    print(f"engine: {connection.vendor}")

    client = Client()
    client.force_login(user)
    # Warm up (imports, first queries) before taking the memory baseline.
    client.get(f"/api/v1/reviews/{review.pk}/cmocs/?page_size=10")
    reset_peak()
    base = rss_mb()
    t0 = time.perf_counter()
    resp = client.get(f"/reviews/{review.pk}/reporting/export/cmocs.csv")
    n_bytes = n_lines = 0
    checkpoints = []
    for chunk in resp.streaming_content:
        n_bytes += len(chunk)
        n_lines += 1
        if n_lines % 20_000 == 0:
            checkpoints.append(round(peak_rss_mb() - base, 1))
    elapsed = time.perf_counter() - t0
    print(
        f"CSV export: {n_lines - 1} rows, {n_bytes / 1e6:.1f} MB in {elapsed:.1f} s;"
        f" RSS {base:.0f} MB before, peak during export {peak_rss_mb():.0f} MB"
        f" (+{peak_rss_mb() - base:.1f} MB); peak growth at every 20k rows: {checkpoints}"
    )

    url = f"/api/v1/reviews/{review.pk}/cmocs/"
    times, queries, by_kind = [], set(), {"first page, filtered": [], "next pages": []}
    next_url = url
    for i in range(args.requests):
        target = next_url if i % 2 else f"{url}?min_sources=2&phase={review.phases.first().pk}"
        # The query log is a deque of 9,000: past that, a capture counts nothing.
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            r = client.get(target)
            times.append((time.perf_counter() - t) * 1000)
            by_kind["next pages" if i % 2 else "first page, filtered"].append(times[-1])
        assert r.status_code == 200, r.content[:300]
        queries.add(len(ctx))
        if i % 2:
            next_url = r.json()["next"] or url
    times.sort()
    p95 = times[int(0.95 * len(times)) - 1]
    print(
        f"API CMOC list (page of 100, elements + evidence): p50 {statistics.median(times):.1f} ms,"
        f" p95 {p95:.1f} ms over {len(times)} requests; queries per request: {sorted(queries)}"
    )
    for kind, ts in by_kind.items():
        ts.sort()
        print(
            f"  {kind}: p50 {statistics.median(ts):.1f} ms, p95 {ts[int(0.95 * len(ts)) - 1]:.1f} ms"
        )


if __name__ == "__main__":
    main()
