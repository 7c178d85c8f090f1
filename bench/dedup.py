"""Score studies.dedup on real labelled sets next to bib-dedupe run on the same file.

    .venv/bin/python bench/dedup.py                         # the digital work set, + bib-dedupe
    .venv/bin/python bench/dedup.py --no-bib                # ours only (seconds, for iterating)
    .venv/bin/python bench/dedup.py --dataset /tmp/dedup-extra/haematology [--dataset DIR ...]
    DEDUP_DATA=/path/to/dir BIB_DEDUPE_PYTHON=/tmp/bibdedupe-venv/bin/python .venv/bin/python bench/dedup.py

Data: each --dataset DIR, else $DEDUP_DATA, else ../shared/data/dedup relative to the
repository (also tried one level further up, for git worktrees). Two layouts are read:
  * ours: digital_work_records.csv + digital_work_true_groups.csv (column merged_ids);
  * bib-dedupe's benchmark layout (github.com/CoLRev-Environment/bib-dedupe, data/<set>/):
    records_pre_merged.csv (ID, ENTRYTYPE, title, author, year, journal/booktitle, volume,
    number/issue, pages, doi — whichever exist) + merged_record_ids.csv (column merged_ids,
    ";"-separated IDs of one true group). IDs written differently in the two files
    ("0000000001" vs "id_0000001") are matched on their number. Groups are cut to the records
    present, so a prefix of a records file (rows in file order) can be scored on its own.
bib-dedupe conflicts with our pins, so it runs in its own virtualenv ($BIB_DEDUPE_PYTHON,
default /tmp/bibdedupe-venv/bin/python) through a subprocess; --no-bib (or DEDUP_NO_BIB=1)
skips it.

Metrics on pairs: precision and recall of "same group" pairs against the true groups, and the
false-positive rate (wrongly merged pairs / all truly distinct pairs).
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from studies.dedup import AUTO_MERGE, DedupItem, clusters, find_duplicates  # noqa: E402


def data_dirs() -> list[Path]:
    args = sys.argv[1:]
    chosen = [Path(args[i + 1]) for i, a in enumerate(args) if a == "--dataset"]
    if chosen:
        return chosen
    if os.environ.get("DEDUP_DATA"):
        return [Path(os.environ["DEDUP_DATA"])]
    for candidate in (REPO.parent / "shared/data/dedup", REPO.parent.parent / "shared/data/dedup"):
        if candidate.exists():
            return [candidate]
    raise SystemExit("labelled data not found: pass --dataset DIR or set DEDUP_DATA")


def records_file(path: Path) -> Path:
    for name in ("digital_work_records.csv", "records_pre_merged.csv"):
        if (path / name).exists():
            return path / name
    raise SystemExit(f"no records file in {path}")


def _number(id_: str) -> str:
    digits = "".join(ch for ch in id_ if ch.isdigit())
    return digits.lstrip("0") or id_


def load(path: Path) -> tuple[list[dict], list[set[str]]]:
    with open(records_file(path), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    groups_file = path / "digital_work_true_groups.csv"
    if not groups_file.exists():
        groups_file = path / "merged_record_ids.csv"
    with open(groups_file, newline="", encoding="utf-8") as f:
        raw = [r["merged_ids"].split(";") for r in csv.DictReader(f)]
    ids = {r["ID"] for r in rows}
    by_number = {_number(i): i for i in ids}
    groups = []
    for g in raw:
        present = {i if i in ids else by_number.get(_number(i)) for i in g} - {None}
        if len(present) > 1:
            groups.append(present)
    return rows, groups


def to_item(row: dict) -> DedupItem:
    year = row.get("year", "")
    return DedupItem(
        id=row["ID"],
        title=row.get("title", ""),
        authors=[a.strip() for a in row.get("author", "").split(" and ") if a.strip()],
        year=int(year) if year.isdigit() else None,
        journal=row.get("journal") or row.get("booktitle") or "",
        volume=(row.get("volume") or "").replace("UNKNOWN", ""),
        issue=row.get("number") or row.get("issue") or "",
        pages=row.get("pages") or "",
        doi=row.get("doi") or "",
        type=row.get("ENTRYTYPE") or "",
    )


def pairs_of(groups) -> set[tuple[str, str]]:
    out = set()
    for g in groups:
        for a, b in itertools.combinations(sorted(g), 2):
            out.add((a, b))
    return out


def score(predicted_groups, true_pairs, n_records) -> dict:
    pred = pairs_of(predicted_groups)
    tp = len(pred & true_pairs)
    fp = len(pred - true_pairs)
    fn = len(true_pairs - pred)
    negatives = n_records * (n_records - 1) // 2 - len(true_pairs)
    return {
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "fpr": fp / negatives,
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


BIB_DEDUPE_SCRIPT = r"""
import json, sys, pandas as pd
import bib_dedupe.bib_dedupe as bd
df = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
df = df.drop(columns=[c for c in ("ID_old", "colrev_origin") if c in df.columns])
prep = bd.prep(df, verbosity_level=0, cpu=1)
blocked = bd.block(prep, verbosity_level=0, cpu=1)
matched = bd.match(blocked, verbosity_level=0, cpu=1)
groups = bd.cluster(matched, verbosity_level=0)
maybe = int((matched["duplicate_label"] == "maybe").sum()) if "duplicate_label" in matched else 0
json.dump({"groups": [sorted(g) for g in groups], "maybe": maybe}, open(sys.argv[2], "w"))
"""


def run_bib_dedupe(path: Path) -> tuple[list | None, float, str]:
    python = os.environ.get("BIB_DEDUPE_PYTHON", "/tmp/bibdedupe-venv/bin/python")
    if not Path(python).exists():
        return None, 0.0, f"bib-dedupe not run: {python} missing (pip install bib-dedupe there)"
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "run.py"
        script.write_text(BIB_DEDUPE_SCRIPT)
        out = Path(tmp) / "out.json"
        t0 = time.perf_counter()
        proc = subprocess.run(
            [python, str(script), str(records_file(path)), str(out)],
            capture_output=True,
            text=True,
            cwd=tmp,
        )
        elapsed = time.perf_counter() - t0
        if proc.returncode != 0:
            return None, elapsed, "bib-dedupe failed: " + proc.stderr.strip()[-800:]
        result = json.loads(out.read_text())
    return result["groups"], elapsed, f"maybe pairs left for manual review: {result['maybe']}"


def main() -> None:
    for path in data_dirs():
        run(path)


def run(path: Path) -> None:
    rows, true_groups = load(path)
    true_pairs = pairs_of(true_groups)
    items = [to_item(r) for r in rows]
    print(f"data: {path} — {len(items)} records, {len(true_groups)} true groups, "
          f"{len(true_pairs)} true pairs")  # fmt: skip
    t0 = time.perf_counter()
    pairs = find_duplicates(items, min_score=0.5)
    elapsed = time.perf_counter() - t0
    print(f"\nretroduce dedup: {elapsed:.2f} s, {len(pairs)} scored pairs ≥ 0.5")
    print(
        f"{'threshold':>10} {'precision':>10} {'recall':>8} {'FPR':>10} {'TP':>5} {'FP':>4} {'FN':>4}"
    )
    for threshold in (AUTO_MERGE, 0.95, 0.9, 0.85, 0.8):
        s = score(clusters(pairs, threshold=threshold), true_pairs, len(items))
        label = f"{threshold:.2f}" + ("*" if threshold == AUTO_MERGE else "")
        print(f"{label:>10} {s['precision']:>10.4f} {s['recall']:>8.4f} {s['fpr']:>10.2e} "
              f"{s['tp']:>5} {s['fp']:>4} {s['fn']:>4}")  # fmt: skip
    print("(* default auto-merge threshold; pairs between it and 0.80 go to the duplicates page)")
    if os.environ.get("DEDUP_SHOW"):
        ids = {r["ID"]: r for r in rows}
        found = pairs_of(clusters(pairs, threshold=float(os.environ["DEDUP_SHOW"])))
        for kind, selection in (("FP", found - true_pairs), ("FN", true_pairs - found)):
            for a, b in sorted(selection)[:40]:
                p = next((x for x in pairs if {x.a, x.b} == {a, b}), None)
                print(kind, p.score if p else "-", p.reason if p else "")
                for i in (a, b):
                    r = {k: v or "" for k, v in ids[i].items()}
                    print("   ", r.get("ENTRYTYPE"), r["title"][:90], "|", r["year"], "|",
                          r["author"][:40], "|", (r.get("journal") or r.get("booktitle", ""))[:40],
                          "|", r.get("volume"), r.get("pages"), "|", r.get("doi", ""))  # fmt: skip

    if "--no-bib" in sys.argv or os.environ.get("DEDUP_NO_BIB"):
        print()
        return
    groups, elapsed, note = run_bib_dedupe(path)
    if groups is not None:
        s = score(groups, true_pairs, len(items))
        print(f"\nbib-dedupe: {elapsed:.1f} s (incl. start-up); {note}")
        print(f"{'':>10} {s['precision']:>10.4f} {s['recall']:>8.4f} {s['fpr']:>10.2e} "
              f"{s['tp']:>5} {s['fp']:>4} {s['fn']:>4}")  # fmt: skip
        if os.environ.get("DEDUP_SHOW"):
            ids = {r["ID"]: r for r in rows}
            found = pairs_of(groups)
            for kind, selection in (("bib FP", found - true_pairs), ("bib FN", true_pairs - found)):
                for a, b in sorted(selection)[:40]:
                    print(kind, ids[a]["title"][:70], "|", ids[b]["title"][:70])
    else:
        print(f"\n{note}")
    print()


if __name__ == "__main__":
    main()
