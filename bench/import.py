"""Import benchmark: generated RIS and MEDLINE exports with ~20 % planted duplicates.

    .venv/bin/python bench/import.py                 # 10k and 100k, RIS and MEDLINE, SQLite
    .venv/bin/python bench/import.py 10000 ris       # one size / format
    DATABASE_URL=postgres://... .venv/bin/python bench/import.py

Reports, per file: bare rispy parse (the floor), our parse, dedup, database write (the rest of
the end-to-end import), end to end, peak RSS of the worker process, and how well the planted
duplicates were found. Each case runs in its own process so peak RSS is its own. Without
DATABASE_URL a throwaway SQLite file under /tmp is used.
"""

from __future__ import annotations

import json
import os
import random
import resource
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
    records = list(base)
    for _ in range(n - n_unique):
        src = dict(rng.choice(base))
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
        if r["volume"]:
            lines.append(f"VI  - {r['volume']}")
        if r["pages"]:
            lines.append(f"PG  - {r['pages']}")
        if r["doi"]:
            lines.append(f"LID - {r['doi'].replace('https://doi.org/', '')} [doi]")
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def worker(n: int, fmt: str) -> dict:
    db_file = None
    if not os.environ.get("DATABASE_URL"):
        db_file = Path(tempfile.mkdtemp()) / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{db_file}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "synthesis.settings")
    os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp())
    import warnings

    warnings.filterwarnings("ignore")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import rispy

    from studies.dedup import DedupItem, clusters, find_duplicates
    from studies.importers import parse
    from studies.models import DuplicateCandidate, Record
    from studies.services.identification import import_batch_create, import_run, search_create
    from synthesis.services import review_create, user_get_or_create

    records, planted = make_records(n)
    text = to_ris(records) if fmt == "ris" else to_medline(records)
    data = text.encode("utf-8")
    out = {"n": n, "format": fmt, "mb": round(len(data) / 1e6, 1)}
    t0 = time.perf_counter()
    if fmt == "ris":
        rispy.loads(text)
        out["rispy"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    parsed = parse(data).records
    out["parse"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    items = [DedupItem(id=i, title=r.title, authors=r.authors, year=r.year, journal=r.journal,
                       volume=r.volume, issue=r.issue, pages=r.pages, doi=r.doi, pmid=r.pmid,
                       type=r.type) for i, r in enumerate(parsed)]  # fmt: skip
    pairs = find_duplicates(items)
    out["dedup"] = time.perf_counter() - t0
    found = {tuple(sorted(g)) for g in clusters(pairs, threshold=0.97)}

    def pairset(groups):
        s = set()
        for g in groups:
            g = sorted(g)
            s.update((a, b) for i, a in enumerate(g) for b in g[i + 1 :])
        return s

    tp_set, fp_set = pairset(planted), pairset(found)
    out["precision"] = len(tp_set & fp_set) / len(fp_set) if fp_set else 1.0
    out["recall"] = len(tp_set & fp_set) / len(tp_set) if tp_set else 1.0

    user = user_get_or_create(username=f"bench{n}{fmt}", password="bench-pw-123")
    review = review_create(user=user, title=f"bench {n} {fmt}")
    search = search_create(user=user, review=review, source="MEDLINE")
    batch = import_batch_create(user=user, review=review, search=search, data=data,
                                filename=f"bench.{fmt}")  # fmt: skip
    t0 = time.perf_counter()
    batch = import_run(user=user, batch=batch, data=data)
    out["end_to_end"] = time.perf_counter() - t0
    out["db_write"] = max(0.0, out["end_to_end"] - out["parse"] - out["dedup"])
    out["merged"] = batch.duplicate_count
    out["candidates"] = DuplicateCandidate.objects.filter(review=review, status="pending").count()
    out["records"] = Record.objects.filter(review=review).count()
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    out["engine"] = django.db.connection.vendor
    if db_file:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    return out


def main() -> None:
    if len(sys.argv) >= 4 and sys.argv[1] == "--worker":
        print(json.dumps(worker(int(sys.argv[2]), sys.argv[3])))
        return
    sizes = [int(sys.argv[1])] if len(sys.argv) > 1 else [10_000, 100_000]
    formats = [sys.argv[2]] if len(sys.argv) > 2 else ["ris", "medline"]
    print(f"{'records':>8} {'fmt':>8} {'MB':>5} {'rispy':>7} {'parse':>7} {'dedup':>7} "
          f"{'db write':>8} {'total':>7} {'×floor':>6} {'RSS MB':>7} {'prec':>6} {'recall':>6} engine")  # fmt: skip
    for n in sizes:
        for fmt in formats:
            proc = subprocess.run([sys.executable, __file__, "--worker", str(n), fmt],
                                  capture_output=True, text=True)  # fmt: skip
            if proc.returncode != 0:
                print(f"{n:>8} {fmt:>8} failed: {proc.stderr.strip()[-500:]}")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            floor = r.get("rispy")
            ratio = f"{r['end_to_end'] / floor:.1f}" if floor else "—"
            print(f"{n:>8} {fmt:>8} {r['mb']:>5} {floor or 0:>7.2f} {r['parse']:>7.2f} "
                  f"{r['dedup']:>7.2f} {r['db_write']:>8.2f} {r['end_to_end']:>7.2f} {ratio:>6} "
                  f"{r['peak_rss_mb']:>7} {r['precision']:>6.3f} {r['recall']:>6.3f} {r['engine']}")  # fmt: skip


if __name__ == "__main__":
    main()
