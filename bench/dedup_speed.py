"""Speed of studies.dedup.find_duplicates against an earlier version, and proof that both
return the same pairs (same ids, scores, reasons, order).

    .venv/bin/python bench/dedup_speed.py                      # against d80dc55, 100k RIS
    .venv/bin/python bench/dedup_speed.py --file /tmp/imp/bench-100000.ris --reference REV
    .venv/bin/python bench/dedup_speed.py --min-score 0.5 --min-score 0 --repeats 1
    .venv/bin/python bench/dedup_speed.py --existing 50000 --repeats 1   # half as the library

The earlier version is read from git (`git show REV:studies/dedup.py`) into a temporary file
and imported from there, so it is not kept in the working tree. The file defaults to the
100k-record RIS export of bench/import.py (generated, ~20 % planted duplicates; the same
bytes as its bench-100000.ris). Records become DedupItems as the import makes them (authors
cut to 8, the folded title given). Each repeat runs the two versions one after the other in
this process, with the garbage collector idle as find_duplicates keeps it and their caches
emptied first; CPU seconds (time.process_time) of find_duplicates alone, best of the repeats.
Exits non-zero if any result differs.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "synthesis.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")

REFERENCE = "d80dc55"  # the last commit before session 6's dedup speed work


def load_module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def reference_module(rev: str, tmp: Path):
    source = subprocess.run(["git", "-C", str(REPO), "show", f"{rev}:studies/dedup.py"],
                            check=True, capture_output=True, text=True).stdout  # fmt: skip
    path = tmp / "dedup_reference.py"
    path.write_text(source, encoding="utf-8")
    return load_module("dedup_reference", path)


def parsed_records(path: Path | None, tmp: Path) -> list:
    from studies.importers import parse_stream

    if path is None:
        gen = load_module("bench_import", REPO / "bench" / "import.py")
        records, _ = gen.make_records(100_000)
        path = tmp / "bench-100000.ris"
        path.write_text(gen.to_ris(records), encoding="utf-8")
    return list(parse_stream(path.read_bytes()))


def items_for(module, parsed) -> list:
    return [module.DedupItem(id=i, title=r.title, authors=r.authors[:8], year=r.year,
                             journal=r.journal, volume=r.volume, issue=r.issue, pages=r.pages,
                             doi=r.doi, pmid=r.pmid, type=r.type, folded_title=module.fold(r.title))
            for i, r in enumerate(parsed)]  # fmt: skip


def clear_caches(module) -> None:
    for value in vars(module).values():
        if hasattr(value, "cache_clear"):
            value.cache_clear()


def run(module, parsed, min_score: float, existing: int) -> tuple[float, list[tuple]]:
    items = items_for(module, parsed)
    clear_caches(module)
    gc.collect()
    t0 = time.process_time()
    pairs = module.find_duplicates(items[existing:], existing=items[:existing], min_score=min_score)
    cpu = time.process_time() - t0
    return cpu, [(p.a, p.b, p.score, p.reason) for p in pairs]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, help="a RIS/MEDLINE/… export (default: generated)")
    parser.add_argument("--reference", default=REFERENCE, help="git revision to compare with")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--min-score", type=float, action="append", dest="min_scores")
    parser.add_argument("--existing", type=int, default=0,
                        help="pass the first N records as the library (`existing`)")  # fmt: skip
    args = parser.parse_args()
    from studies import dedup

    with tempfile.TemporaryDirectory() as tmp:
        try:
            old = reference_module(args.reference, Path(tmp))
        except (subprocess.CalledProcessError, FileNotFoundError):
            # A shallow clone or an export without git history: time this version alone.
            print(f"reference {args.reference} not in this clone: timing the current code only")
            old = None
        parsed = parsed_records(args.file, Path(tmp))
    print(f"{len(parsed)} records ({args.existing} as existing); reference {args.reference}; "
          f"load {os.getloadavg()[0]:.2f}")  # fmt: skip
    failed = False
    for min_score in args.min_scores or [dedup.CANDIDATE]:
        times: dict[str, list[float]] = {"reference": [], "current": []}
        for _ in range(args.repeats):
            cpu_new, pairs_new = run(dedup, parsed, min_score, args.existing)
            if old is None:
                times["current"].append(cpu_new)
                print(f"min_score {min_score}: current {cpu_new:.2f} s, {len(pairs_new)} pairs")
                continue
            cpu_old, pairs_old = run(old, parsed, min_score, args.existing)
            times["reference"].append(cpu_old)
            times["current"].append(cpu_new)
            same = pairs_old == pairs_new
            failed |= not same
            print(f"min_score {min_score}: reference {cpu_old:.2f} s, current {cpu_new:.2f} s, "
                  f"{len(pairs_new)} pairs, {'identical' if same else 'DIFFERENT'}")  # fmt: skip
            if not same:
                both = zip(pairs_old, pairs_new, strict=False)
                diff = next((i for i, (a, b) in enumerate(both) if a != b),
                            min(len(pairs_old), len(pairs_new)))  # fmt: skip
                print(f"  first difference at {diff}: {pairs_old[diff:diff + 1]} vs "
                      f"{pairs_new[diff:diff + 1]} (lengths {len(pairs_old)}, {len(pairs_new)})")  # fmt: skip
        if old is None:
            print(f"min_score {min_score}: best of {args.repeats}: {min(times['current']):.2f} s")
            continue
        best_old, best_new = min(times["reference"]), min(times["current"])
        print(f"min_score {min_score}: best of {args.repeats}: reference {best_old:.2f} s, "
              f"current {best_new:.2f} s ({best_old / best_new:.1f}x); "
              f"load {os.getloadavg()[0]:.2f}")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
