"""Simulated screening: replay a labelled dataset to measure prioritisation.

Plain Python (no Django). Used by `manage.py simulate_screening` and bench/prioritisation.py.

Protocol (the same for our model, random order and ASReview, on the same data and priors):
the prior knowledge (n included + n excluded records drawn with the seed) is labelled first;
then the model ranks the rest, the top record is "screened" (its true label revealed), and the
model retrains on a schedule. Figures exclude the prior records, as ASReview's insights do:
  - WSS@r: share of the remaining records a reviewer need not screen to reach recall r,
    minus (1 - r) (Cohen et al. 2006).
  - RRF@10: share of the remaining relevant records found after screening 10 % of records.
  - records to 95 % / 100 % recall.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from studies import ranking

TRUE_VALUES = {"1", "true", "yes", "y", "include", "included", "relevant", "asreview_relevant"}
FALSE_VALUES = {
    "0",
    "false",
    "no",
    "n",
    "exclude",
    "excluded",
    "irrelevant",
    "asreview_irrelevant",
    "",
}


class DatasetError(ValueError):
    pass


@dataclass
class Dataset:
    name: str
    titles: list[str]
    abstracts: list[str]
    keywords: list[str]
    labels: np.ndarray  # 1 include, 0 exclude

    @property
    def texts(self) -> list[str]:
        return [
            ranking.record_text(t, a, k)
            for t, a, k in zip(self.titles, self.abstracts, self.keywords, strict=True)
        ]

    def __len__(self) -> int:
        return len(self.labels)


def _label(value, *, where: str) -> int:
    v = str(value if value is not None else "").strip().lower()
    if v.endswith(".0"):
        v = v[:-2]
    if v in TRUE_VALUES:
        return 1
    if v in FALSE_VALUES:
        return 0
    raise DatasetError(f"{where}: label {value!r} is neither include (1) nor exclude (0)")


def _first(row: dict, *names: str) -> str:
    for n in names:
        v = row.get(n)
        if v:
            return " ; ".join(map(str, v)) if isinstance(v, list) else str(v)
    return ""


def load_dataset(path: str | Path, label_column: str) -> Dataset:
    """Read a labelled CSV (columns title, abstract, optional keywords) or RIS file whose
    records carry the label in `label_column` (a rispy field name such as `notes`, or a raw
    tag such as `LB`; values 1/0, true/false, include/exclude, ASReview_relevant/...)."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path}: no such file")
    rows: list[dict]
    if path.suffix.lower() in (".ris", ".txt"):
        import rispy

        with path.open(encoding="utf-8-sig") as fh:
            try:
                entries = rispy.load(fh, skip_unknown_tags=False, enforce_list_tags=False)
            except Exception as exc:  # rispy raises bare errors on malformed files
                raise DatasetError(f"{path}: not a readable RIS file ({exc})") from exc
        rows = []
        for e in entries:
            unknown = e.get("unknown_tag") or {}
            row = dict(e)
            for tag, vals in unknown.items():
                row[tag] = vals[0] if isinstance(vals, list) and len(vals) == 1 else vals
            rows.append(row)
        # A raw tag (LB, N1) names the same field as rispy's key for it (label, notes).
        label_column = rispy.TAG_KEY_MAPPING.get(label_column, label_column)
        title_keys, abstract_keys, kw_keys = (
            ("title", "primary_title", "TI", "T1"),
            ("abstract", "notes_abstract", "AB"),
            ("keywords", "KW"),
        )
    else:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        title_keys, abstract_keys, kw_keys = (
            ("title", "Title", "primary_title"),
            ("abstract", "Abstract"),
            ("keywords", "Keywords"),
        )
    if not rows:
        raise DatasetError(f"{path}: no records")
    if label_column not in rows[0] and not any(label_column in r for r in rows):
        cols = ", ".join(sorted(rows[0].keys()))
        raise DatasetError(f"{path}: no label column {label_column!r} (columns: {cols})")
    labels = []
    for i, r in enumerate(rows, start=1):
        val = r.get(label_column)
        if isinstance(val, list):
            # RIS notes may hold several values; the label is whichever one parses.
            hits = [x for x in val if str(x).strip().lower() in TRUE_VALUES | FALSE_VALUES]
            val = hits[0] if hits else ""
        labels.append(_label(val, where=f"{path.name} record {i}"))
    y = np.asarray(labels, dtype=np.int8)
    if y.sum() == 0 or y.sum() == len(y):
        raise DatasetError(f"{path}: needs both included and excluded records")
    return Dataset(
        name=path.stem,
        titles=[_first(r, *title_keys) for r in rows],
        abstracts=[_first(r, *abstract_keys) for r in rows],
        keywords=[_first(r, *kw_keys) for r in rows],
        labels=y,
    )


def choose_priors(labels: np.ndarray, n_included: int, n_excluded: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    inc = np.flatnonzero(labels == 1)
    exc = np.flatnonzero(labels == 0)
    if n_included > len(inc) or n_excluded > len(exc):
        raise DatasetError("more prior records asked for than the dataset has")
    return [int(i) for i in rng.choice(inc, n_included, replace=False)] + [
        int(i) for i in rng.choice(exc, n_excluded, replace=False)
    ]


def retrain_step(n_labelled: int) -> int:
    """How many records to screen before the next retrain: every record while the model
    knows little, then about every 5 % of what is labelled, at most 10 (what the app does
    between background retrains)."""
    if n_labelled < 50:
        return 1
    return max(1, min(10, n_labelled // 20))


def simulate_model(X, labels: np.ndarray, priors: list[int], *, model: str, seed: int) -> list[int]:
    """Screening order (record indices after the priors) under active learning."""
    n = len(labels)
    labelled = np.zeros(n, dtype=bool)
    labelled[priors] = True
    order: list[int] = []
    y_known = labels.copy()
    while not labelled.all():
        idx = np.flatnonzero(labelled)
        pool = np.flatnonzero(~labelled)
        if len(set(y_known[idx].tolist())) == 2:
            clf = ranking.fit_classifier(model, X[idx], y_known[idx], seed=seed)
            s = ranking.decision(clf, X[pool])
            ranked = pool[ranking.rank(s)]
        else:  # no include found yet: nothing to learn from, screen in random order
            ranked = np.random.default_rng(seed + len(idx)).permutation(pool)
        take = ranked[: retrain_step(len(idx))]
        labelled[take] = True
        order.extend(int(i) for i in take)
    return order


def simulate_random(n: int, priors: list[int], *, seed: int) -> list[int]:
    rest = np.setdiff1d(np.arange(n), np.asarray(priors))
    return [int(i) for i in np.random.default_rng(seed).permutation(rest)]


def metrics(labels: np.ndarray, order: list[int], *, n_total: int) -> dict:
    """Figures for a screening order of the non-prior records (may stop early, once the
    last relevant record is found, as ASReview's simulation does)."""
    seq = labels[np.asarray(order, dtype=np.int64)] if order else np.zeros(0, dtype=np.int8)
    n = n_total
    relevant = int(labels[np.asarray(order, dtype=np.int64)].sum()) if order else 0
    found = np.cumsum(seq)

    def to_recall(r: float) -> int:
        need = math.ceil(r * relevant - 1e-9)
        hit = np.flatnonzero(found >= need)
        return int(hit[0]) + 1 if len(hit) else n

    n95, n100 = to_recall(0.95), to_recall(1.0)
    k10 = math.ceil(0.10 * n)
    curve = []
    for pct in range(0, 101, 5):
        k = min(len(found), math.ceil(pct / 100 * n))
        got = int(found[k - 1]) if k else 0
        curve.append([pct, round(got / relevant, 4) if relevant else 1.0])
    return {
        "records": n,
        "relevant": relevant,
        "wss@95": round((n - n95) / n - 0.05, 4),
        "wss@100": round((n - n100) / n, 4),
        "rrf@10": round(int(found[min(k10, len(found)) - 1]) / relevant, 4) if relevant else 1.0,
        "records_to_95": n95,
        "records_to_100": n100,
        "recall_curve": curve,
    }


# --- ASReview, run in its own virtualenv -------------------------------------------------

ASREVIEW_PYTHON = os.environ.get("ASREVIEW_PYTHON", "/tmp/asr/bin/python")


def asreview_available(python: str = ASREVIEW_PYTHON) -> tuple[bool, str]:
    if not Path(python).exists():
        return False, f"no ASReview interpreter at {python} (set ASREVIEW_PYTHON)"
    try:
        out = subprocess.run(
            [python, "-c", "import asreview; print(asreview.__version__)"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"cannot run {python}: {exc}"
    if out.returncode:
        return False, f"asreview does not import: {out.stderr.strip()[-300:]}"
    return True, out.stdout.strip()


def asreview_csv(ds: Dataset, directory: Path) -> Path:
    """The dataset in ASReview's column names (record_id = row number)."""
    path = directory / f"{ds.name}.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["record_id", "title", "abstract", "keywords", "included"])
        for i, (t, a, k, y) in enumerate(
            zip(ds.titles, ds.abstracts, ds.keywords, ds.labels, strict=True)
        ):
            w.writerow([i, t, a, k, int(y)])
    return path


def simulate_asreview(
    csv_path: Path, priors: list[int], *, seed: int, python: str = ASREVIEW_PYTHON
) -> list[int]:
    """Run `asreview simulate` with its default model (ELAS u4 in ASReview 2/3) from the
    same priors, and return its screening order after the priors."""
    asreview = str(Path(python).with_name("asreview"))
    with tempfile.TemporaryDirectory(prefix="asr-sim-") as tmp:
        project = Path(tmp) / "sim.asreview"
        cmd = [asreview, "simulate", str(csv_path), "--seed", str(seed), "-o", str(project)]
        cmd += ["--prior-idx", *map(str, priors)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
        if proc.returncode:
            raise RuntimeError(f"asreview simulate failed: {proc.stderr.strip()[-500:]}")
        with zipfile.ZipFile(project) as z:
            z.extract("results.db", tmp)
        con = sqlite3.connect(Path(tmp) / "results.db")
        try:
            rows = con.execute("SELECT record_id FROM results ORDER BY rowid").fetchall()
        finally:
            con.close()
    prior_set = set(priors)
    return [int(r[0]) for r in rows if int(r[0]) not in prior_set]


# --- a whole run -----------------------------------------------------------------------


def _mean(per_seed: list[dict]) -> dict:
    keys = ["wss@95", "wss@100", "rrf@10", "records_to_95", "records_to_100"]
    out = {k: round(float(np.mean([m[k] for m in per_seed])), 4) for k in keys}
    curves = np.asarray([[p[1] for p in m["recall_curve"]] for m in per_seed])
    pcts = [p[0] for p in per_seed[0]["recall_curve"]]
    out["recall_curve"] = [
        [p, round(float(v), 4)] for p, v in zip(pcts, curves.mean(0), strict=True)
    ]
    return out


def run(
    ds: Dataset,
    *,
    prior_included: int = 1,
    prior_excluded: int = 1,
    seeds: int = 3,
    models: tuple[str, ...] = (ranking.DEFAULT_MODEL,),
    asreview: bool = True,
    log=None,
) -> dict:
    """Simulate every model, random order and (if available) ASReview for each seed."""
    say = log or (lambda *_: None)
    t0 = time.perf_counter()
    X = ranking.vectoriser().fit_transform(ds.texts).tocsr()
    say(f"{ds.name}: {len(ds)} records, {int(ds.labels.sum())} included, {X.shape[1]} terms")
    results: dict[str, dict] = {}
    n_after = len(ds) - prior_included - prior_excluded
    asr_ok, asr_note = asreview_available() if asreview else (False, "not requested")
    tmpdir = Path(tempfile.mkdtemp(prefix="sim-data-"))
    try:
        csv_path = asreview_csv(ds, tmpdir) if asr_ok else None
        for seed in range(seeds):
            priors = choose_priors(ds.labels, prior_included, prior_excluded, seed)
            for m in models:
                t = time.perf_counter()
                order = simulate_model(X, ds.labels, priors, model=m, seed=seed)
                res = metrics(ds.labels, order, n_total=n_after)
                res["seconds"] = round(time.perf_counter() - t, 1)
                results.setdefault(m, {"label": ranking.MODEL_LABELS[m], "seeds": []})
                results[m]["seeds"].append({"seed": seed, "priors": priors, **res})
                say(f"  seed {seed} {m}: WSS@95 {res['wss@95']:.3f} ({res['seconds']} s)")
            res = metrics(ds.labels, simulate_random(len(ds), priors, seed=seed), n_total=n_after)
            results.setdefault("random", {"label": "Random order", "seeds": []})
            results["random"]["seeds"].append({"seed": seed, "priors": priors, **res})
            if asr_ok:
                t = time.perf_counter()
                try:
                    order = simulate_asreview(csv_path, priors, seed=seed)
                except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                    asr_ok, asr_note = False, str(exc)
                    results.pop("asreview", None)
                    say(f"  ASReview failed: {exc}")
                    continue
                res = metrics(ds.labels, order, n_total=n_after)
                res["seconds"] = round(time.perf_counter() - t, 1)
                results.setdefault(
                    "asreview", {"label": f"ASReview {asr_note} default (ELAS u4)", "seeds": []}
                )
                results["asreview"]["seeds"].append({"seed": seed, "priors": priors, **res})
                say(f"  seed {seed} asreview: WSS@95 {res['wss@95']:.3f} ({res['seconds']} s)")
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    for r in results.values():
        r["mean"] = _mean(r["seeds"])
    return {
        "dataset": ds.name,
        "records": len(ds),
        "included": int(ds.labels.sum()),
        "prior_included": prior_included,
        "prior_excluded": prior_excluded,
        "seeds": seeds,
        "asreview": asr_note if asr_ok else f"not compared: {asr_note}",
        "results": results,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def table(runs: list[dict]) -> str:
    """A Markdown table of mean figures per dataset and method."""
    lines = [
        "| dataset | method | WSS@95 | WSS@100 | RRF@10 | records to 95 % | records to 100 % |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        for key, res in r["results"].items():
            m = res["mean"]
            lines.append(
                f"| {r['dataset']} | {key}: {res['label']} | {m['wss@95']:.3f} | "
                f"{m['wss@100']:.3f} | {m['rrf@10']:.3f} | {m['records_to_95']:.0f} | "
                f"{m['records_to_100']:.0f} |"
            )
    return "\n".join(lines)


def dumps(obj) -> str:
    return json.dumps(obj, indent=2)
