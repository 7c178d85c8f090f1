"""Screening at scale: 100k records, 200k votes. Server time (through Django's test client,
so URL routing, permission checks, queries and template rendering all count) and queries
per action for the reviewer view.

    .venv/bin/python bench/screening.py                # SQLite file under /tmp
    DATABASE_URL=postgres://… .venv/bin/python bench/screening.py
"""

import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
DB_FILE = "/tmp/retroduce-bench-screening.sqlite3"
if "DATABASE_URL" not in os.environ:
    for suffix in ("", "-wal", "-shm"):
        Path(DB_FILE + suffix).unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{DB_FILE}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "synthesis.settings")
os.environ.setdefault("SECRET_KEY", "bench-only")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

N_RECORDS = int(os.environ.get("BENCH_RECORDS", 100_000))
REPEAT = int(os.environ.get("BENCH_REPEAT", 200))


def setup():
    from django.contrib.auth import get_user_model

    from studies.models import Record, RecordScore, ScreeningDecision
    from synthesis.models import Membership, Review

    call_command("migrate", verbosity=0, interactive=False)
    User = get_user_model()
    # Start clean on PostgreSQL too (SQLite gets a fresh file).
    Review.objects.filter(title="Bench screening").delete()
    users = {}
    for name in ("bench_a", "bench_b", "bench_c"):
        users[name], _ = User.objects.get_or_create(username=name)
    review = Review.objects.create(
        title="Bench screening", dual_fraction=1, highlight_include_terms="collaboration\ncare",
        highlight_exclude_terms="paediatric*",
    )  # fmt: skip
    for u in users.values():
        Membership.objects.create(review=review, user=u, role="reviewer")
    from studies.models import ScreeningStage

    ta = ScreeningStage.objects.create(review=review, kind="title_abstract", name="T/A", order=1)
    ScreeningStage.objects.create(review=review, kind="full_text", name="FT", order=2)
    t0 = time.perf_counter()
    words = [
        "collaboration",
        "care",
        "hospital",
        "community",
        "partnership",
        "trust",
        "governance",
        "paediatric",
    ]
    rng = random.Random(1)
    batch = []
    for i in range(N_RECORDS):
        abstract = " ".join(rng.choice(words) for _ in range(180))
        batch.append(Record(review=review, title=f"Record {i}: {' '.join(rng.sample(words, 5))}",
                            abstract=abstract, authors=[f"Author{i}, A."], year=1990 + i % 33,
                            journal="Journal", doi=f"10.1000/b{i}", position=i))  # fmt: skip
        if len(batch) == 5000:
            Record.objects.bulk_create(batch)
            batch = []
    Record.objects.bulk_create(batch)
    from studies.services.screening import record_keys_assign

    record_keys_assign(review_id=review.pk, dual_seed=review.dual_seed)  # as an import does
    ids = list(
        Record.objects.filter(review=review).order_by("position").values_list("id", flat=True)
    )
    n_both = int(N_RECORDS * 0.975)
    votes = []
    for who, chosen in (("bench_a", ids[:n_both]), ("bench_b", ids[:n_both]),
                        ("bench_c", ids[N_RECORDS - N_RECORDS // 20:])):  # fmt: skip
        for rid in chosen:
            votes.append(ScreeningDecision(record_id=rid, stage=ta, reviewer=users[who],
                                           decision=rng.choice(["include", "exclude", "exclude",
                                                                "exclude", "maybe"])))  # fmt: skip
            if len(votes) == 10000:
                ScreeningDecision.objects.bulk_create(votes)
                votes = []
    ScreeningDecision.objects.bulk_create(votes)
    order = ids[:]
    rng.shuffle(order)
    RecordScore.objects.bulk_create(
        [RecordScore(stage=ta, record_id=rid, score=1 - k / N_RECORDS, rank=k + 1)
         for k, rid in enumerate(order)], batch_size=10000,
    )  # fmt: skip
    with connection.cursor() as c:
        c.execute("ANALYZE")
    print(f"setup: {N_RECORDS} records, {ScreeningDecision.objects.filter(stage=ta).count()} "
          f"votes, {N_RECORDS} scores in {time.perf_counter() - t0:.1f} s")  # fmt: skip
    return review, ta, users, ids, n_both


def measure(label, fn, repeat):
    times, queries = [], set()
    fn()  # warm
    for _ in range(repeat):
        # The query log is a deque of 9,000: past that, a capture counts nothing.
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            resp = fn()
            times.append((time.perf_counter() - t) * 1000)
        assert resp.status_code == 200, (label, resp.status_code)
        queries.add(len(ctx.captured_queries))
    times.sort()
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    q = "/".join(str(x) for x in sorted(queries))
    print(f"{label:<44} p50 {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms   "
          f"queries {q}   (n={repeat})")  # fmt: skip
    return statistics.median(times), p95


def main():
    settings.ALLOWED_HOSTS = ["testserver"]
    review, ta, users, ids, n_both = setup()
    c = Client()
    c.force_login(users["bench_a"])
    base = f"/reviews/{review.pk}/screening/{ta.pk}/"
    print(f"database: {connection.vendor}")
    rng = random.Random(2)
    undecided = ids[n_both:]
    cursor_ids = [rng.choice(undecided[:-50]) for _ in range(REPEAT)]
    any_ids = [rng.choice(ids) for _ in range(REPEAT)]
    for order in ("position", "priority", "random"):
        for filter_ in ("undecided", "maybe", "mine", "conflicts"):
            it = iter((cursor_ids if filter_ == "undecided" else any_ids) * 3)
            measure(
                f"next record ({order}, {filter_})",
                lambda o=order, f=filter_, it=it: c.get(
                    base + "record/", {"after": next(it), "order": o, "filter": f}
                ),
                REPEAT,
            )
    measure(
        "show one record (← / →)", lambda: c.get(base + "record/", {"r": rng.choice(ids)}), REPEAT
    )
    todo = iter(undecided)
    for order in ("position", "priority", "random"):
        measure(
            f"save decision (+ next record, {order})",
            lambda o=order: c.post(
                base + "decide/",
                {"record": next(todo), "decision": "exclude", "order": o},
                HTTP_HX_REQUEST="true",
            ),
            REPEAT,
        )
    redo = iter(ids[: REPEAT + 5])
    frontier = str(undecided[-1])
    measure(
        "go back, change a vote (+ resume)",
        lambda: c.post(
            base + "decide/",
            {"record": next(redo), "decision": "include", "resume": frontier},
            HTTP_HX_REQUEST="true",
        ),
        REPEAT,
    )
    measure("undo my vote", lambda: c.post(base + "undo/", {"record": rng.choice(ids[:n_both])},
                           HTTP_HX_REQUEST="true"),
            REPEAT)  # fmt: skip
    measure("open the queue (no cursor, full page)", lambda: c.get(base), 20)
    measure("open the queue, random order", lambda: c.get(base, {"order": "random"}), 20)
    from django.core.cache import cache

    measure("progress bars (stage counts cached 20 s)", lambda: c.get(base + "progress/"), 20)
    measure("progress bars (cold: counting the stage)",
            lambda: cache.clear() or c.get(base + "progress/"), 5)  # fmt: skip
    cache.clear()
    measure("conflicts list (first page)", lambda: c.get(base + "conflicts/"), 50)
    measure("conflicts list (all, first page)",
            lambda: c.get(base + "conflicts/", {"show": "all"}), 50)  # fmt: skip
    from studies.models import Record

    cursors = iter(
        [f"{p}-{pk}" for pk, p in Record.objects.filter(pk__in=rng.sample(ids[:n_both], 60))
         .values_list("pk", "position")]
    )  # fmt: skip

    def later_page():
        return c.get(base + "conflicts/", {"after": next(cursors)})

    measure("conflicts list (page from a random cursor)", later_page, 50)
    measure("agreement page (97.5k pairs, 3 reviewers)", lambda: c.get(base + "agreement/"), 20)
    measure("agreement page, votes changed (recount)",
            lambda: cache.clear() or c.get(base + "agreement/"), 5)  # fmt: skip


if __name__ == "__main__":
    main()
