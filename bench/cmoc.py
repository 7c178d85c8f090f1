"""CMOC list and filter pages at scale: 50,000 CMOCs and 200,000 excerpts.

    .venv/bin/python bench/cmoc.py [--cmocs 50000] [--excerpts 200000] [--runs 30] [--reuse]
    DATABASE_URL=postgres://postgres@127.0.0.1:54330/coding_bench .venv/bin/python bench/cmoc.py

Builds a throwaway database (SQLite under /tmp, or the PostgreSQL database named by
DATABASE_URL, whose tables are dropped first), fills it with bulk inserts (the services are
exercised by the tests; here only the read path is timed), then requests each list/filter
page through Django's test client as a logged-in reviewer and prints p50/p95 and the number
of SQL queries per page. ``--reuse`` keeps a database built by an earlier run.
"""

import argparse
import gc
import random
import statistics
import time

from _django import database_empty, django_setup  # noqa: E402

DB, ON_PG = django_setup("cmoc")

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

settings.ALLOWED_HOSTS = ["testserver", "localhost"]

WORDS = [
    "trust",
    "faith",
    "conflict",
    "leadership",
    "shared",
    "goals",
    "commitment",
    "frustration",
    "inertia",
    "governance",
    "funding",
    "data",
    "sharing",
    "mandated",
    "voluntary",
    "integration",
    "primary",
    "care",
    "community",
    "partners",
    "ambition",
    "pace",
    "impact",
    "relationships",
    "power",
    "politics",
    "learning",
    "legitimacy",
    "accountability",
]


def build(n_cmocs: int, n_excerpts: int) -> dict:
    from django.contrib.auth import get_user_model

    from cmoc.models import CMOC, CMOCElement, CMOCEvidence, Concept, Excerpt
    from studies.models import Document, Study
    from synthesis.models import Membership, Phase, Review

    rng = random.Random(2023)
    user = get_user_model().objects.create_user("bench", password="x")
    review = Review.objects.create(title="Bench review")
    Membership.objects.create(review=review, user=user, role="reviewer")
    phases = [Phase.objects.create(review=review, name=f"Phase {i}", order=i) for i in (1, 2, 3)]
    n_studies = 600
    studies = Study.objects.bulk_create(
        Study(review=review, label=f"Study {i}", year=2000 + i % 23) for i in range(n_studies)
    )
    text = " ".join(rng.choice(WORDS) for _ in range(400))
    docs = Document.objects.bulk_create(
        Document(review=review, study=studies[i % n_studies], title=f"Doc {i}", text=text)
        for i in range(n_studies * 2)
    )
    concepts = Concept.objects.bulk_create(
        Concept(review=review, label=f"{w} {i}") for i, w in enumerate(WORDS * 8)
    )
    relations = ["", "affirms", "refines", "refutes", "novel_context", "novel_mechanism"]
    batch = 5000
    with transaction.atomic():
        for lo in range(0, n_cmocs, batch):
            CMOC.objects.bulk_create(
                CMOC(
                    review=review,
                    code=f"C{i:06d}",
                    phase=rng.choice(phases),
                    statement=" ".join(rng.choice(WORDS) for _ in range(25)),
                    context=" ".join(rng.choice(WORDS) for _ in range(8)),
                    mechanism_resource=" ".join(rng.choice(WORDS) for _ in range(6)),
                    mechanism_reasoning=" ".join(rng.choice(WORDS) for _ in range(6)),
                    outcome=" ".join(rng.choice(WORDS) for _ in range(6)),
                    relation=rng.choice(relations),
                    origin=rng.choice(["stated", "inferred"]),
                    checked=rng.random() < 0.2,
                )  # fmt: skip
                for i in range(lo, min(lo + batch, n_cmocs))
            )
    cmoc_ids = list(CMOC.objects.filter(review=review).values_list("id", flat=True))
    with transaction.atomic():
        elements = []
        for cid in cmoc_ids:
            for role, c in zip(("context", "mechanism", "outcome"),
                               rng.sample(concepts, 3), strict=True):  # fmt: skip
                elements.append(CMOCElement(cmoc_id=cid, role=role, concept=c,
                                            direction=rng.choice(["increase", "decrease", ""])))  # fmt: skip
        CMOCElement.objects.bulk_create(elements, batch_size=batch)
        del elements
        for lo in range(0, n_excerpts, batch):
            Excerpt.objects.bulk_create(
                Excerpt(
                    review=review,
                    document=docs[i % len(docs)],
                    text=text[10:90],
                    start=10,
                    end=90,
                    page=1,
                )  # fmt: skip
                for i in range(lo, min(lo + batch, n_excerpts))
            )
        ex = list(Excerpt.objects.filter(review=review).values_list("id", "document__study_id"))
        sources: dict[int, set] = {}
        evidence = []
        for k, (eid, sid) in enumerate(ex):  # every excerpt supports or contradicts one CMOC
            cid = cmoc_ids[(k * 7919) % len(cmoc_ids)]
            stance = "contradicts" if rng.random() < 0.1 else "supports"
            evidence.append(CMOCEvidence(cmoc_id=cid, excerpt_id=eid, stance=stance))
            if stance == "supports":
                sources.setdefault(cid, set()).add(sid)
        CMOCEvidence.objects.bulk_create(evidence, batch_size=batch)
        by_count: dict[int, list[int]] = {}
        for cid, s in sources.items():
            by_count.setdefault(len(s), []).append(cid)
        for count, ids in by_count.items():
            for lo in range(0, len(ids), 900):
                CMOC.objects.filter(pk__in=ids[lo : lo + 900]).update(source_count=count)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return {"review": review, "user": user, "concept": concepts[3], "study": studies[17],
            "phase": phases[1]}  # fmt: skip


def reuse() -> dict | None:
    from django.contrib.auth import get_user_model

    from cmoc.models import Concept
    from studies.models import Study
    from synthesis.models import Review

    review = Review.objects.filter(title="Bench review").first()
    if review is None:
        return None
    return {"review": review, "user": get_user_model().objects.get(username="bench"),
            "concept": Concept.objects.filter(review=review).order_by("id")[3],
            "study": Study.objects.filter(review=review).order_by("id")[17],
            "phase": review.phases.get(order=2)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cmocs", type=int, default=50_000)
    ap.add_argument("--excerpts", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--reuse", action="store_true", help="keep an earlier run's database")
    args = ap.parse_args()
    from cmoc.models import CMOC, CMOCEvidence, Excerpt

    if args.reuse:
        call_command("migrate", verbosity=0)
    else:
        database_empty(DB, ON_PG)
    t0 = time.perf_counter()
    data = reuse() if args.reuse else None
    if data is None:
        data = build(args.cmocs, args.excerpts)
    if ON_PG:
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE")  # all-visible pages: index-only counts, as in production
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    print(f"{'reused' if args.reuse else 'built'} {CMOC.objects.count()} CMOCs, {Excerpt.objects.count()} excerpts, "
          f"{CMOCEvidence.objects.count()} evidence links in {time.perf_counter() - t0:.0f} s")  # fmt: skip
    # The build leaves a large heap behind that a web worker would not have; without this,
    # full garbage collections over it show up as ~80 ms CPU spikes in the p95.
    gc.collect()
    gc.freeze()
    client = Client()
    client.force_login(data["user"])
    base = f"/reviews/{data['review'].pk}/cmocs/"
    c, st, ph = data["concept"].pk, data["study"].pk, data["phase"].pk
    pages = {
        "list (page 1)": "",
        "list (page 400)": "?page=400",
        "text search": "?q=legitimacy",
        "text search, two words": "?q=trust+legitimacy",
        "text search, rare": "?q=C04999",
        "text + concept": f"?q=legitimacy&concept={c}",
        "text + study": f"?q=legitimacy&study={st}",
        "text, most sources": "?q=legitimacy&sort=-sources",
        "concept": f"?concept={c}",
        "concept + role": f"?concept={c}&role=mechanism",
        "phase": f"?phase={ph}",
        "relation": "?relation=refines",
        "phase + relation": f"?phase={ph}&relation=refines",
        "supported (>=2 sources)": "?supported=yes",
        "not supported": "?supported=no",
        "min sources 3": "?min_sources=3",
        "checked": "?checked=yes",
        "unchecked, most sources": "?checked=no&sort=-sources",
        "origin stated": "?origin=stated",
        "study": f"?study={st}",
        "study + concept": f"?study={st}&concept={c}",
        "recently edited": "?sort=-updated",
        "fewest sources": "?sort=sources",
        "sort by phase": "?sort=phase",
        "all filters": f"?q=trust&concept={c}&role=context&phase={ph}&relation=refines"
        f"&min_sources=1&checked=no&sort=-sources",
        "htmx rows, search + concept": f"?q=trust&concept={c}",
    }
    # Wall time suffers from other processes on a shared machine. Beside it: CPU time of this
    # process (all of the work on SQLite, which runs in-process; the Python side only on
    # PostgreSQL) and the time spent in SQL (server time included on PostgreSQL).
    print(f"\n{'page':32} {'p50 ms':>8} {'p95 ms':>8} {'cpu p95':>8} {'sql p95':>8} {'queries':>8}")
    for name, qs in pages.items():
        times, cpu, sql, queries = [], [], [], set()
        headers = {"HTTP_HX_REQUEST": "true"} if name.startswith("htmx") else {}
        for i in range(args.runs + 2):
            # The query log is a deque of 9,000: past that, a capture counts nothing.
            connection.queries_log.clear()
            with CaptureQueriesContext(connection) as ctx:
                t0, c0 = time.perf_counter(), time.process_time()
                r = client.get(base + qs, **headers)
                dt = (time.perf_counter() - t0) * 1000
                dc = (time.process_time() - c0) * 1000
            assert r.status_code == 200, (name, r.status_code)
            if i >= 2:  # warm-up
                times.append(dt)
                cpu.append(dc)
                sql.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
            queries.add(len(ctx))
        p95 = statistics.quantiles(times, n=20)[18]
        cpu95 = statistics.quantiles(cpu, n=20)[18]
        sql95 = statistics.quantiles(sql, n=20)[18]
        print(f"{name:32} {statistics.median(times):8.1f} {p95:8.1f} {cpu95:8.1f} {sql95:8.1f} "
              f"{'/'.join(map(str, sorted(queries))):>8}")  # fmt: skip


if __name__ == "__main__":
    main()
