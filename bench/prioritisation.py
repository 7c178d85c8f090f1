"""Screening prioritisation benchmark.

    .venv/bin/python bench/prioritisation.py [--seeds 3] [--no-asreview] [--speed-only]

1. Simulation on the labelled datasets in ../shared/data/screening (or $SCREENING_DATA):
   our default model vs random order vs ASReview's default model (ELAS u4), same priors
   (1 include + 1 exclude per seed). ASReview runs from its own virtualenv
   ($ASREVIEW_PYTHON, default /tmp/asr/bin/python:
   `python -m venv /tmp/asr && /tmp/asr/bin/pip install asreview`).
2. Speed: retraining on 20k records and ranking 100k records (plain module), and the
   background job end to end on a throwaway SQLite database (20k records).
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = Path(os.environ.get("SCREENING_DATA", ROOT.parent / "shared" / "data" / "screening"))
if not DATA.exists():
    DATA = Path("/work/shared/data/screening")
DATASETS = [("Bannach-Brown_2019.csv", "label_included"), ("Hamilton_2022.csv", "labels")]


def simulation(seeds: int, asreview: bool) -> list[dict]:
    from studies import ranking_sim

    runs = []
    for name, col in DATASETS:
        ds = ranking_sim.load_dataset(DATA / name, col)
        runs.append(
            ranking_sim.run(ds, seeds=seeds, asreview=asreview, log=lambda m: print(m, flush=True))
        )
    print()
    print(ranking_sim.table(runs))
    for r in runs:
        print(f"{r['dataset']}: ASReview {r['asreview']}; {r['seconds']} s")
    return runs


def _records(n: int, seed: int = 0) -> tuple[list[str], list[int]]:
    """n realistic records: real titles/abstracts (with their real labels) from both
    datasets, resampled with a suffix so that records are not identical."""
    import numpy as np

    from studies import ranking_sim

    base, labels = [], []
    for name, col in DATASETS:
        ds = ranking_sim.load_dataset(DATA / name, col)
        base += ds.texts
        labels += ds.labels.tolist()
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(base), n)
    return [f"{base[i]} r{j}" for j, i in enumerate(pick)], [labels[i] for i in pick]


def _texts(n: int, seed: int = 0) -> list[str]:
    return _records(n, seed)[0]


def speed() -> dict:

    from studies import ranking

    out = {}
    texts, y = _records(20_000)
    pool = _texts(100_000, seed=2)
    t = time.perf_counter()
    model = ranking.train(texts, y)
    out["train_20k_from_text_s"] = round(time.perf_counter() - t, 2)
    # What the job does: term counts are cached per record, so a retrain or a re-rank
    # only tokenises records it has not seen before.
    t = time.perf_counter()
    pool_counts = ranking.term_counts(pool)
    out["tokenise_100k_first_time_s"] = round(time.perf_counter() - t, 2)
    counts = ranking.term_counts(texts)
    t = time.perf_counter()
    model = ranking.train([], y, counts=counts)
    out["retrain_20k_cached_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    X = model.vectoriser.transform_counts(pool_counts)
    order = ranking.rank(ranking.score(model, [], X=X))
    out["rank_100k_cached_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    top = order[:1000]
    ranking.top_terms_many(model, [pool[i] for i in top], X[top], k=5)
    out["terms_top1000_s"] = round(time.perf_counter() - t, 2)
    for k, v in out.items():
        print(f"{k}: {v}", flush=True)
    return out


def job_end_to_end(n_records: int = 20_000, n_decided: int = 2_000) -> dict:
    db = Path(tempfile.mkdtemp(prefix="bench-ranking-")) / "db.sqlite3"
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ["MEDIA_ROOT"] = str(db.parent / "media")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "synthesis.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from studies.models import Record, ScreeningDecision, ScreeningStage
    from studies.services import ranking as svc
    from synthesis.models import Job, Membership, Review, Role

    user = get_user_model().objects.create_user("bench")
    review = Review.objects.create(title="bench")
    Membership.objects.create(review=review, user=user, role=Role.OWNER)
    stage = ScreeningStage.objects.create(review=review, kind="title_abstract", name="TA")
    texts, labels = _records(n_records, seed=3)
    recs = Record.objects.bulk_create(
        [
            Record(review=review, title=t[:200], abstract=t[200:], position=i)
            for i, t in enumerate(texts)
        ],
        batch_size=2000,
    )
    ScreeningDecision.objects.bulk_create(
        [
            ScreeningDecision(
                record=r,
                stage=stage,
                reviewer=user,
                decision="include" if labels[i] else "exclude",
            )
            for i, r in enumerate(recs[:n_decided])
        ],
        batch_size=2000,
    )
    from django.conf import settings

    settings.RANKING_CACHE_DIR = db.parent / "cache"  # cold cache for the first run
    timings = []
    for _ in range(2):  # first run tokenises every record; the second reuses the cache
        job = Job.objects.create(review=review, kind=svc.JOB_KIND, func=svc.JOB_FUNC, params={})
        t = time.perf_counter()
        res = svc.ranking_train(job=job, review_id=review.pk, stage_id=stage.pk)
        timings.append(round(time.perf_counter() - t, 2))
    secs = f"{timings[0]} s cold cache, {timings[1]} s warm"
    t = time.perf_counter()
    svc.ranking_panel_context(stage)
    panel = round(time.perf_counter() - t, 3)
    print(
        f"job end to end: {n_records} records, {n_decided} decided -> {res['ranked']} ranked "
        f"in {secs}; stopping panel context {panel} s",
        flush=True,
    )
    return {"job_cold_s": timings[0], "job_warm_s": timings[1], "panel_s": panel, **res}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--no-asreview", action="store_true")
    p.add_argument("--speed-only", action="store_true")
    p.add_argument("--json", help="write all figures to this file")
    a = p.parse_args()
    out = {"speed": speed(), "job": job_end_to_end()}
    if not a.speed_only:
        out["simulation"] = simulation(a.seeds, not a.no_asreview)
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
