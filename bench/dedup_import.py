"""Deduplication quality as an import runs it: each labelled records file goes through the
real importer (format detection, CSV column mapping, the review's auto-merge threshold), and
the merged groups are read back from the database and scored like bench/dedup.py scores the
in-memory engine. The two should agree; a gap means the importer loses something dedup uses.

    .venv/bin/python bench/dedup_import.py                           # the digital work set
    .venv/bin/python bench/dedup_import.py --dataset DIR [--dataset DIR ...]
    .venv/bin/python bench/dedup_import.py --database postgres://…/existing_db

Data and metrics: as bench/dedup.py (pairs: precision, recall, false-positive rate). Runs in
a throwaway SQLite database unless --database is given.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
_spec = importlib.util.spec_from_file_location("bench_dedup", REPO / "bench" / "dedup.py")
bench_dedup = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_dedup)


def setup(database: str | None) -> None:
    tmp = tempfile.mkdtemp()
    os.environ["DATABASE_URL"] = database or f"sqlite:///{tmp}/bench.sqlite3"
    os.environ["MEDIA_ROOT"] = tmp
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "synthesis.settings")
    import warnings

    warnings.filterwarnings("ignore")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def run(path: Path) -> dict:
    from studies.models import DuplicateCandidate, Record
    from studies.services.identification import import_batch_create, import_run, search_create
    from synthesis.services import review_create, user_get_or_create

    rows, true_groups = bench_dedup.load(path)
    true_pairs = bench_dedup.pairs_of(true_groups)
    records_file = bench_dedup.records_file(path)
    user = user_get_or_create(username="dedup-bench", password="bench-pw-123")
    review = review_create(user=user, title=f"dedup bench {path.name}")
    search = search_create(user=user, review=review, source=path.name)
    batch = import_batch_create(user=user, review=review, search=search,
                                data=records_file.read_bytes(), filename=records_file.name)  # fmt: skip
    t0 = time.perf_counter()
    batch = import_run(user=user, batch=batch)
    elapsed = time.perf_counter() - t0
    groups: dict[int, set[str]] = {}
    for pk, root, raw in Record.objects.filter(review=review).values_list(
        "pk", "duplicate_of_id", "raw"
    ):
        groups.setdefault(root or pk, set()).add(raw["ID"])
    predicted = [g for g in groups.values() if len(g) > 1]
    s = bench_dedup.score(predicted, true_pairs, len(rows))
    s.update(records=len(rows), true_pairs=len(true_pairs), seconds=elapsed,
             threshold=review.auto_merge_threshold, format=batch.format,
             to_check=DuplicateCandidate.objects.filter(batch=batch, status="pending").count())  # fmt: skip
    return s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--dataset", action="append", default=[], help="labelled set directory")
    parser.add_argument("--database", help="DATABASE_URL of an existing database")
    args = parser.parse_args()
    sys.argv = [sys.argv[0]] + [x for d in args.dataset for x in ("--dataset", d)]
    dirs = bench_dedup.data_dirs()
    setup(args.database)
    print(f"{'set':<28} {'records':>7} {'format':>6} {'threshold':>9} {'precision':>9} "
          f"{'recall':>7} {'TP':>5} {'FP':>4} {'FN':>4} {'to check':>8} {'import':>7}")  # fmt: skip
    for path in dirs:
        s = run(path)
        print(f"{path.name[:28]:<28} {s['records']:>7} {s['format']:>6} {s['threshold']:>9.2f} "
              f"{s['precision']:>9.4f} {s['recall']:>7.4f} {s['tp']:>5} {s['fp']:>4} "
              f"{s['fn']:>4} {s['to_check']:>8} {s['seconds']:>6.2f}s")  # fmt: skip


if __name__ == "__main__":
    main()
