"""Where a large import's time goes: the 100k RIS import on PostgreSQL with parts switched off.

    .venv/bin/python bench/import_ablation.py --database postgres://postgres@127.0.0.1:54330/ablation
    .venv/bin/python bench/import_ablation.py --database URL --records 10000 --rounds 2

The issue asks for an import within 3× a bare rispy parse of the same file. This shows what it
would take: the same import (bench/import.py's generated file and worker) as shipped, without
PostgreSQL's foreign-key checks (`session_replication_role = replica`), without deduplication
(`find_duplicates` answers nothing), and without both. The switches exist only here: the
application always deduplicates and always lets the database check its keys. Each variant runs
in a database of its own, created (and dropped first) by this script from the URL's name, so
the URL's user must be allowed to create databases, and must be a superuser for the variants
without key checks. Prints wall time, × the floor, CPU seconds of the importing process and
of the PostgreSQL server (same machine only), and the records merged.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
VARIANTS = {
    "shipped": (False, False),
    "no key checks": (True, False),
    "no dedup": (False, True),
    "no dedup, no key checks": (True, True),
}


def _bench_import():
    spec = importlib.util.spec_from_file_location("bench_import", REPO / "bench" / "import.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def child(path: str, groups: str, n: int, no_dedup: bool) -> dict:
    os.environ.update(DEBUG="false", DJANGO_SETTINGS_MODULE="synthesis.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    if no_dedup:
        from studies import dedup

        dedup.find_duplicates = lambda *args, **kwargs: []
    return _bench_import().worker_import(path, groups, n, "ris")


def _database_reset(url: str, *, no_key_checks: bool) -> None:
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
        if no_key_checks:
            cursor.execute(f'ALTER DATABASE "{name}" SET session_replication_role = replica')
    admin.close()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        path, groups, n, no_dedup = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
        print(json.dumps(child(path, groups, n, no_dedup == "1")))
        return
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("DATABASE_URL", ""),
                        help="postgres://… (its name is recreated; default: DATABASE_URL)")  # fmt: skip
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=1, help="runs of each variant, interleaved")
    args = parser.parse_args()
    if not args.database.startswith("postgres"):
        # `make bench` runs every script without arguments: say why, do not fail.
        print("import_ablation: skipped, needs --database postgres://… (PostgreSQL only)")
        return
    bi = _bench_import()
    records, planted = bi.make_records(args.records)
    results: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"bench-{args.records}.ris"
        path.write_text(bi.to_ris(records), encoding="utf-8")
        os.sync()  # its write-back would otherwise run during the first measurements
        del records
        groups = Path(tmp) / "groups.json"
        groups.write_text(json.dumps([sorted(g) for g in planted]))
        floors = []
        for _ in range(args.rounds):
            # The floor on an idle server: right after an import, autovacuum of the new rows
            # shared the two cores with it (4.3 s instead of 3.0 s measured that way).
            _database_reset(args.database, no_key_checks=False)
            floors.append(bi._run("floor", path)["rispy"])
            for variant, (no_keys, no_dedup) in VARIANTS.items():
                _database_reset(args.database, no_key_checks=no_keys)
                proc = subprocess.run(
                    [sys.executable, __file__, "--child", str(path), str(groups),
                     str(args.records), "1" if no_dedup else "0"],
                    capture_output=True, text=True,
                    env={**os.environ, "DATABASE_URL": args.database, "MEDIA_ROOT": tmp},
                )  # fmt: skip
                if proc.returncode != 0:
                    sys.exit(f"{variant} failed: {proc.stderr.strip()[-800:]}")
                results[variant].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    floor = min(floors)  # the fastest: a slow run would flatter the import
    print(
        f"{args.records} records, RIS; bare rispy parse (fastest of {len(floors)}): {floor:.2f} s"
    )
    print(
        f"{'variant':<26} {'end to end':>10} {'× floor':>8} {'cpu':>6} {'server':>7} {'merged':>7}"
    )
    for variant, runs in results.items():
        for r in runs:
            print(f"{variant:<26} {r['end_to_end']:>9.2f}s {r['end_to_end'] / floor:>8.1f} "
                  f"{r['cpu']:>6.1f} {r['server_cpu'] or 0:>7.1f} {r['merged']:>7}")  # fmt: skip


if __name__ == "__main__":
    main()
