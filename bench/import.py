"""Import benchmark: generated RIS and MEDLINE exports with ~20 % planted duplicates.

A planted duplicate differs as copies from two databases do (case, punctuation, diacritics,
DOI form, missing fields, author order) and carries index terms of its own, so merging it
fills the surviving record (the keyword union), as merges of real exports do.

    .venv/bin/python bench/import.py                 # 10k and 100k, RIS and MEDLINE, SQLite
    .venv/bin/python bench/import.py 10000 ris       # one size / format
    DATABASE_URL=postgres://... .venv/bin/python bench/import.py

    .venv/bin/python bench/import.py --database postgres://postgres@127.0.0.1:54330/x 100000 ris

    .venv/bin/python bench/import.py --database postgres://… --repeat 5 100000 ris

Reports, per file: bare rispy parse of the file (the floor, fastest of three runs), our parse
alone, dedup alone, the rest of the end-to-end import (database writes, merges), end to end,
peak RSS (VmHWM) of the process that ran the import, and precision/recall of the planted
duplicates as merged in the database. The file is generated first and written to disk; the floor, the phases and the
import each run in a fresh process, so the peak RSS is the import's own, as in the background
job. Without DATABASE_URL a throwaway SQLite file under /tmp is used. DEBUG is off.
"cpu" is the importing process's CPU time; "server" the local PostgreSQL server's CPU time
during the import (read from /proc; "—" on SQLite, whose engine runs inside the importing
process). "stats" is the planner statistics refresh that an import of ≥ 5,000 records queues
as its own task once committed (not part of the end-to-end time).
`--repeat N` imports each file N times, alternating with one bare parse each, and deletes each
run's review before the next, so every run meets tables of the same size; a summary line gives
the median and the fastest of both and their ratios (like against like).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

WORDS = ["trust", "partnership", "hospital", "university", "knowledge", "mobilisation", "collaboration", "research", "practice", "implementation", "leadership", "mechanism", "context", "outcome", "realist", "evaluation", "capacity", "engagement", "co-production", "boundary", "spanning", "network", "learning", "health", "care", "organisational", "culture", "reciprocity", "funding", "embedded", "researcher", "clinical", "academic", "evidence", "uptake", "commissioning", "primary", "secondary", "services", "policy", "workforce"]  # fmt: skip
SURNAMES = ["Smith", "Müller", "García", "O'Brien", "Nguyen", "Kowalski", "Dubois", "Rossi",
            "Andersson", "Tanaka", "Ní Bhriain", "Øvretveit", "Patel", "Wilson", "Zhang", "Boaden"]  # fmt: skip
JOURNALS = ["Health Research Policy and Systems", "Implementation Science", "BMJ Open",
            "Journal of Health Services Research & Policy", "Social Science & Medicine"]  # fmt: skip


INDEX_TERMS = [f"{a} {b}" for a in ("Health", "Organizational", "Program", "Community", "Patient",
                                      "Interprofessional", "Knowledge", "Quality")
               for b in ("Services", "Evaluation", "Innovation", "Relations", "Care", "Culture",
                         "Research", "Management", "Policy", "Outcomes")]  # fmt: skip


def _word(rng) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


SYLLABLES = ["ka", "ro", "mi", "tel", "san", "dor", "vi", "lu", "nes", "par", "tho", "gra", "ben",
             "ul", "ish", "mon", "ter", "ca", "del", "fi"]  # fmt: skip


def make_records(n: int, dup_share: float = 0.2, seed: int = 7) -> tuple[list[dict], set]:
    rng = random.Random(seed)
    n_unique = int(n / (1 + dup_share))
    base = []
    for i in range(n_unique):
        words = [
            rng.choice(WORDS) if rng.random() < 0.6 else _word(rng)
            for _ in range(rng.randint(6, 14))
        ]
        title = " ".join(words).capitalize()
        base.append({
            "title": title,
            "authors": [f"{rng.choice(SURNAMES) if rng.random() < 0.3 else _word(rng).capitalize()}, "
                        f"{rng.choice('ABCDEFGHJKLMNPRS')}." for _ in range(rng.randint(1, 6))],
            "year": rng.randint(1995, 2024), "journal": rng.choice(JOURNALS),
            "volume": str(rng.randint(1, 60)), "issue": str(rng.randint(1, 12)),
            "pages": f"{(p := rng.randint(1, 900))}-{p + rng.randint(3, 20)}",
            "doi": f"10.{rng.randint(1000, 9999)}/bench.{i}" if rng.random() < 0.8 else "",
            "pmid": str(10_000_000 + i) if rng.random() < 0.5 else "",
            "abstract": " ".join(rng.choice(WORDS) for _ in range(rng.randint(80, 200))),
            "key": i,
        })  # fmt: skip
    # Index terms from their own generator, so every other field is as before they were added.
    # Each database indexes a paper with its own vocabulary (MeSH, Emtree, author keywords):
    # a planted duplicate shares some terms and brings others, so its merge changes the
    # surviving record (the keyword union), as merges of real exports do.
    terms = random.Random(seed + 1)
    for r in base:
        r["keywords"] = terms.sample(INDEX_TERMS, terms.randint(3, 6))
    records = list(base)
    for _ in range(n - n_unique):
        src = dict(rng.choice(base))
        src["keywords"] = [
            *terms.sample(src["keywords"], terms.randint(1, 2)),
            *terms.sample(INDEX_TERMS, terms.randint(1, 3)),
        ]
        v = rng.randint(0, 5)
        if v == 0:
            src["title"] = src["title"].upper()
        elif v == 1:
            src["title"] = src["title"].replace(" ", ", ", 1) + "."
        elif v == 2:
            src["title"] = (
                unicodedata.normalize("NFKD", src["title"]).encode("ascii", "ignore").decode()
            )
            src["authors"] = [
                unicodedata.normalize("NFKD", a).encode("ascii", "ignore").decode()
                for a in src["authors"]
            ]
        elif v == 3 and src["doi"]:
            src["doi"] = "https://doi.org/" + src["doi"].upper()
        elif v == 4:
            src["abstract"] = src["pages"] = src["volume"] = ""
        else:
            src["authors"] = list(reversed(src["authors"]))
        records.append(src)
    rng.shuffle(records)
    by_key: dict[int, list[int]] = {}
    for idx, r in enumerate(records):
        by_key.setdefault(r["key"], []).append(idx)
    groups = {tuple(v) for v in by_key.values() if len(v) > 1}
    return records, groups


def to_ris(records) -> str:
    out = []
    for r in records:
        lines = ["TY  - JOUR", f"TI  - {r['title']}"] + [f"AU  - {a}" for a in r["authors"]]
        lines += [f"PY  - {r['year']}", f"T2  - {r['journal']}"]
        for tag, key in (("VL", "volume"), ("IS", "issue"), ("DO", "doi"), ("AN", "pmid")):
            if r[key]:
                lines.append(f"{tag}  - {r[key]}")
        if r["pages"]:
            sp, ep = r["pages"].split("-")
            lines += [f"SP  - {sp}", f"EP  - {ep}"]
        if r["abstract"]:
            lines.append(f"AB  - {r['abstract']}")
        lines += [f"KW  - {k}" for k in r["keywords"]]
        lines.append("ER  - ")
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def to_medline(records) -> str:
    out = []
    for i, r in enumerate(records):
        lines = [f"PMID- {r['pmid'] or 90_000_000 + i}", f"TI  - {r['title']}"]
        if r["abstract"]:
            words = r["abstract"].split()
            lines.append("AB  - " + " ".join(words[:12]))
            for j in range(12, len(words), 12):  # MEDLINE wraps long fields
                lines.append("      " + " ".join(words[j : j + 12]))
        lines += [f"FAU - {a}" for a in r["authors"]]
        lines += [f"DP  - {r['year']} Mar", f"JT  - {r['journal']}"]
        lines += [f"MH  - {k}" for k in r["keywords"]]
        if r["volume"]:
            lines.append(f"VI  - {r['volume']}")
        if r["pages"]:
            lines.append(f"PG  - {r['pages']}")
        if r["doi"]:
            lines.append(f"LID - {r['doi'].replace('https://doi.org/', '')} [doi]")
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def _setup() -> None:
    db_file = None
    if not os.environ.get("DATABASE_URL"):
        db_file = Path(tempfile.mkdtemp()) / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{db_file}"
    # Measure the production configuration: with DEBUG on, Django keeps the text of the last
    # 9000 queries, and bulk INSERTs of abstracts make that hundreds of MB.
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "synthesis.settings")
    os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp())
    import warnings

    warnings.filterwarnings("ignore")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _rss_mb() -> int:
    """Peak RSS of this process. Linux's VmHWM, not ru_maxrss: a child started from this
    script inherits the parent's ru_maxrss across fork and exec, so every worker reported at
    least the generator's own ~800 MB (sessions 1–5 printed that as the import's peak)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def worker_floor(path: str) -> dict:
    """The floor: a bare rispy parse of the same file (read and decoded as we do)."""
    import rispy

    t0 = time.perf_counter()
    text = Path(path).read_bytes().decode("utf-8")
    rispy.loads(text)
    return {"rispy": time.perf_counter() - t0}


def worker_phases(path: str, groups_path: str) -> dict:
    """Our parse and dedup alone (no database), and how well the planted duplicates were
    found at the default auto-merge threshold."""
    from studies.dedup import DedupItem, clusters, find_duplicates
    from studies.importers import parse_stream

    t0 = time.perf_counter()
    parsed = list(parse_stream(Path(path).read_bytes()))
    out = {"parse": time.perf_counter() - t0}
    t0 = time.perf_counter()
    items = [DedupItem(id=i, title=r.title, authors=r.authors, year=r.year, journal=r.journal,
                       volume=r.volume, issue=r.issue, pages=r.pages, doi=r.doi, pmid=r.pmid,
                       type=r.type) for i, r in enumerate(parsed)]  # fmt: skip
    del parsed
    pairs = find_duplicates(items)
    out["dedup"] = time.perf_counter() - t0
    found = [sorted(g) for g in clusters(pairs, threshold=0.97)]
    out.update(_quality(found, json.loads(Path(groups_path).read_text())))
    return out


def _quality(found, planted) -> dict:
    def pairset(groups):
        s = set()
        for g in groups:
            g = sorted(g)
            s.update((a, b) for i, a in enumerate(g) for b in g[i + 1 :])
        return s

    tp_set, fp_set = pairset(planted), pairset(found)
    return {
        "precision": len(tp_set & fp_set) / len(fp_set) if fp_set else 1.0,
        "recall": len(tp_set & fp_set) / len(tp_set) if tp_set else 1.0,
    }


def worker_import(path: str, groups_path: str, n: int, fmt: str) -> dict:
    """End to end in a fresh process, as the background job runs it: the uploaded file is
    read from storage, parsed, written, deduplicated. Peak RSS is this process's."""
    os.environ["MEDIA_ROOT"] = str(Path(path).parent)  # the file is "uploaded" there
    _setup()
    import django

    from studies.models import DuplicateCandidate, ImportBatch, Record
    from studies.services.identification import import_run, search_create
    from synthesis.services import review_create, user_get_or_create

    user = user_get_or_create(username=f"bench{n}{fmt}", password="bench-pw-123")
    review = review_create(user=user, title=f"bench {n} {fmt}")
    search = search_create(user=user, review=review, source="MEDLINE")
    batch = ImportBatch(review=review, search=search, filename=Path(path).name, created_by=user)
    batch.file.name = Path(path).name
    batch.save()
    out = {"rss_before_mb": _rss_mb()}
    server0 = _server_cpu()
    t0, cpu0 = time.perf_counter(), time.process_time()
    batch = import_run(user=user, batch=batch)
    out["end_to_end"] = time.perf_counter() - t0
    # CPU seconds of this process (not the database server's): steadier than wall time on a
    # shared machine. The PostgreSQL server's CPU is read from /proc (same machine only).
    out["cpu"] = time.process_time() - cpu0
    out["server_cpu"] = _server_cpu() - server0 if server0 is not None else None
    out["peak_rss_mb"] = _rss_mb()
    # The planner statistics refresh runs as its own queued task after the import commits
    # (no worker runs here): timed on its own.
    from studies.services.identification import ANALYZE_AFTER, _statistics_refresh

    t0 = time.perf_counter()
    if n >= ANALYZE_AFTER:
        _statistics_refresh(added=n)
    out["stats_refresh"] = time.perf_counter() - t0
    out["merged"] = batch.duplicate_count
    out["candidates"] = DuplicateCandidate.objects.filter(review=review, status="pending").count()
    records = Record.objects.filter(review=review)
    out["records"] = records.count()
    by_pos = dict(records.values_list("pk", "position"))
    groups: dict[int, list[int]] = {}
    for pk, root in records.filter(duplicate_of__isnull=False).values_list("pk", "duplicate_of"):
        groups.setdefault(root, [by_pos[root] - 1]).append(by_pos[pk] - 1)
    quality = _quality(list(groups.values()), json.loads(Path(groups_path).read_text()))
    out["db_precision"], out["db_recall"] = quality["precision"], quality["recall"]
    out["engine"] = django.db.connection.vendor
    out["review_id"] = review.pk
    return out


def worker_drop(review_id: str) -> dict:
    """Delete a benchmark review and everything in it, so that the next repeat imports into
    tables of the same size (each 100k import left behind makes the indexes larger)."""
    _setup()
    from synthesis.models import Review

    t0 = time.perf_counter()
    Review.objects.filter(pk=int(review_id)).delete()
    return {"dropped": time.perf_counter() - t0}


def _server_cpu() -> float | None:
    """CPU seconds used so far by the local PostgreSQL server's processes (None elsewhere)."""
    import django

    if django.db.connection.vendor != "postgresql" or not Path("/proc").exists():
        return None
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, _, rest = stat.read_text().partition(") ")
        except OSError:
            continue
        if "postgres" in name:
            f = rest.split()
            ticks += sum(int(x) for x in f[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _database_ensure(url: str) -> None:
    """Create the PostgreSQL database named in `url` when it does not exist yet."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")
    admin.close()


def _server_settle(timeout: float = 120.0) -> None:
    """On PostgreSQL, vacuum what earlier steps wrote, then wait until no autovacuum worker
    runs. After an import, autovacuum vacuums and analyzes its rows (≈10 s on one of the two
    cores after 100k records) when its launcher next visits the database, which can be in the
    middle of the next measurement: the 100k imports that follow the 10k ones measured
    0.5–1.7 s slower than alone for that reason (server log, session 8). Vacuumed here, that
    work is done before the clock starts, and each run measures its own import."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return
    import psycopg2

    deadline = time.monotonic() + timeout
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
            while time.monotonic() < deadline:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
                )
                if cursor.fetchone()[0] == 0:
                    return
                time.sleep(0.5)
    finally:
        conn.close()


def _run(*args) -> dict:
    _server_settle()
    proc = subprocess.run([sys.executable, __file__, "--worker", *map(str, args)],
                          capture_output=True, text=True, env=os.environ.copy())  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip()[-800:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) >= 3 and sys.argv[1] == "--worker":
        kind, args = sys.argv[2], sys.argv[3:]
        if kind == "floor":
            result = worker_floor(*args)
        elif kind == "phases":
            _setup()
            result = worker_phases(*args)
        elif kind == "drop":
            result = worker_drop(*args)
        else:
            result = worker_import(args[0], args[1], int(args[2]), args[3])
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("size", nargs="?", type=int, help="records (default: 10000 and 100000)")
    parser.add_argument("format", nargs="?", choices=["ris", "medline"],
                        help="export format (default: both)")  # fmt: skip
    parser.add_argument("--database", help="DATABASE_URL to measure (default: a temporary "
                        "SQLite file); a missing PostgreSQL database is created")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="import each file N times, deleting each run's review before the "
                        "next (same table sizes every time), and print the median and the "
                        "fastest next to the floor's")  # fmt: skip
    args = parser.parse_args()
    if args.database:
        os.environ["DATABASE_URL"] = args.database
        if args.database.startswith("postgres"):
            _database_ensure(args.database)
    sizes = [args.size] if args.size else [10_000, 100_000]
    formats = [args.format] if args.format else ["ris", "medline"]
    engine = os.environ.get("DATABASE_URL", "sqlite (temporary file)").split("@")[-1]
    print(f"database: {engine}")
    print(f"{'records':>8} {'fmt':>8} {'MB':>5} {'rispy':>7} {'parse':>7} {'dedup':>7} "
          f"{'db+rest':>8} {'total':>7} {'cpu':>6} {'server':>6} {'×floor':>6} {'RSS MB':>7} "
          f"{'prec':>6} {'recall':>6} {'merged':>7} {'to check':>8} {'stats':>6}")  # fmt: skip
    for n in sizes:
        for fmt in formats:
            records, planted = make_records(n)
            text = to_ris(records) if fmt == "ris" else to_medline(records)
            del records
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"bench-{n}.{'ris' if fmt == 'ris' else 'txt'}"
                path.write_text(text, encoding="utf-8")
                os.sync()  # its write-back would otherwise run during the floor's parse
                groups_path = Path(tmp) / "groups.json"
                groups_path.write_text(json.dumps([sorted(g) for g in planted]))
                mb = round(len(text.encode()) / 1e6, 1)
                del text
                try:
                    phases = _run("phases", path, groups_path)
                    floors, runs = [], []
                    for _ in range(args.repeat):
                        # The floor is the fastest of three bare parses: it also varies with
                        # the box (2.9–4.8 s seen for one file), and the slowest would flatter
                        # the import. Repeats alternate one floor with one import, so that
                        # both meet the same moments of a noisy machine.
                        if fmt == "ris":
                            floors += [
                                _run("floor", path)["rispy"]
                                for _ in range(3 if args.repeat == 1 else 1)
                            ]
                        runs.append(_run("import", path, groups_path, n, fmt))
                        if args.repeat > 1:
                            _run("drop", runs[-1]["review_id"])
                except RuntimeError as exc:
                    print(f"{n:>8} {fmt:>8} failed: {exc}")
                    continue
            for r in runs:
                _print_run(n, fmt, mb, min(floors) if floors else None, phases, r)
            if len(runs) > 1:
                _print_summary(n, fmt, floors, runs)


def _print_run(n, fmt, mb, floor, phases, r) -> None:
    ratio = f"{r['end_to_end'] / floor:.1f}" if floor else "—"
    server = "—" if r["server_cpu"] is None else f"{r['server_cpu']:.1f}"
    rest = max(0.0, r["end_to_end"] - phases["parse"] - phases["dedup"])
    print(f"{n:>8} {fmt:>8} {mb:>5} {floor or 0:>7.2f} {phases['parse']:>7.2f} "
          f"{phases['dedup']:>7.2f} {rest:>8.2f} {r['end_to_end']:>7.2f} {r['cpu']:>6.1f} "
          f"{server:>6} {ratio:>6} "
          f"{r['peak_rss_mb']:>7} {r['db_precision']:>6.3f} {r['db_recall']:>6.3f} "
          f"{r['merged']:>7} {r['candidates']:>8} {r['stats_refresh']:>6.2f}")  # fmt: skip
    if abs(r["db_recall"] - phases["recall"]) > 0.01:
        print(f"{'':>8} note: in-memory dedup recall {phases['recall']:.3f}")


def _print_summary(n, fmt, floors, runs) -> None:
    """The repeats side by side: median and fastest import against the floor's median and
    fastest (like against like; the table's ×floor is one run against the fastest floor)."""
    times = sorted(r["end_to_end"] for r in runs)
    line = (f"{n:>8} {fmt:>8}  {len(runs)} imports: median {statistics.median(times):.2f} s, "
            f"fastest {times[0]:.2f} s, slowest {times[-1]:.2f} s")  # fmt: skip
    if floors:
        median_floor = statistics.median(floors)
        line += (f"; floor median {median_floor:.2f} s, fastest {min(floors):.2f} s; "
                 f"median/median {statistics.median(times) / median_floor:.2f}×, "
                 f"fastest/fastest {times[0] / min(floors):.2f}×")  # fmt: skip
    print(line)


if __name__ == "__main__":
    main()
