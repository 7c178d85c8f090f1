"""Causal web at scale: 50,000 CMOCs over 2,000 concepts reused with a Zipf-like skew (a few
mechanisms such as trust and faith appear everywhere, most concepts rarely), in two phases.

Times loading the graph input (constant number of queries), counting and flagging chains,
building the concept web with its layout, and serving the web JSON endpoint through Django,
plus a side-panel click on the most-used concept.

    .venv/bin/python bench/graph.py            # N_CMOCS=50000 N_CONCEPTS=2000 by default
"""

import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = Path("/tmp/retroduce-bench-graph.sqlite3")
REUSE = os.environ.get("REUSE_DB") == "1" and DB.exists()  # re-time without regenerating
if not REUSE:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DB}{suffix}").unlink(missing_ok=True)
os.environ["DATABASE_URL"] = f"sqlite:///{DB}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "synthesis.settings")
os.environ.setdefault("SECRET_KEY", "bench")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from cmoc import graph, selectors_theory  # noqa: E402
from cmoc.models import CMOC, CMOCElement, CMOCLink, Concept  # noqa: E402
from synthesis.models import Membership, Phase, Review  # noqa: E402

N_CMOCS = int(os.environ.get("N_CMOCS", 50_000))
N_CONCEPTS = int(os.environ.get("N_CONCEPTS", 2_000))
ZIPF = float(os.environ.get("ZIPF", 1.0))


def timed(label, fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    print(f"{label:<58} {time.perf_counter() - t:7.3f} s")
    return out


def build():
    rng = random.Random(20230601)
    user = get_user_model().objects.create_user("bench", password="x")
    review = Review.objects.create(title="Benchmark review")
    Membership.objects.create(review=review, user=user, role="owner")
    phases = [
        Phase.objects.create(review=review, name="Theory gleaning", order=1),
        Phase.objects.create(review=review, name="Realist evaluation", order=2),
    ]
    Concept.objects.bulk_create(
        [Concept(review=review, label=f"concept {i:04d}") for i in range(N_CONCEPTS)],
        batch_size=2000,
    )
    concept_ids = list(Concept.objects.filter(review=review).values_list("pk", flat=True))
    weights = [1 / (rank + 1) ** ZIPF for rank in range(N_CONCEPTS)]
    CMOC.objects.bulk_create(
        [
            CMOC(
                review=review,
                code=f"C{i:05d}",
                phase=phases[i % 2],
                statement=f"Benchmark CMOC {i}",
                relation=rng.choice(["", "affirms", "refines", "refutes", "novel_context"]),
                theme=f"theme {i % 12}",
                source_count=rng.choice([0, 1, 1, 2, 2, 3, 4]),
            )
            for i in range(N_CMOCS)
        ],
        batch_size=2000,
    )
    cmoc_ids = list(CMOC.objects.filter(review=review).values_list("pk", flat=True))
    elements = []
    directions = ["increase", "decrease", ""]
    for cmoc_id in cmoc_ids:
        seen = set()
        for role, n in (
            ("context", rng.choice([1, 1, 2])),
            ("mechanism", 1),
            ("outcome", rng.choice([1, 1, 2])),
        ):
            for concept in rng.choices(concept_ids, weights, k=n):
                if (role, concept) in seen:
                    continue
                seen.add((role, concept))
                elements.append(
                    CMOCElement(
                        cmoc_id=cmoc_id,
                        role=role,
                        concept_id=concept,
                        direction=rng.choice(directions),
                    )
                )
    CMOCElement.objects.bulk_create(elements, batch_size=5000)
    pairs = set()
    while len(pairs) < 500:
        a, b = rng.sample(cmoc_ids, 2)
        pairs.add((a, b))
    CMOCLink.objects.bulk_create(
        [
            CMOCLink(review=review, source_id=a, target_id=b, kind="outcome_context")
            for a, b in pairs
        ]
    )
    return review, user, len(elements)


def main():
    call_command("migrate", verbosity=0)
    settings.ALLOWED_HOSTS = ["*"]
    if REUSE:
        review = Review.objects.get(title="Benchmark review")
        user = get_user_model().objects.get(username="bench")
        n_elements = CMOCElement.objects.filter(cmoc__review=review).count()
    else:
        review, user, n_elements = timed(f"generate {N_CMOCS} CMOCs, {N_CONCEPTS} concepts", build)
    print(f"  {N_CMOCS} CMOCs, {n_elements} elements, {N_CONCEPTS} concepts, 500 asserted links")

    with CaptureQueriesContext(connection) as q:
        data = timed("load graph input (selector)", selectors_theory.theory_data, review=review)
    print(f"  queries: {len(q.captured_queries)}")
    n_chain = timed("count computed chain edges (outcome→context)", graph.chain_count, data)
    print(f"  computed chain edges: {n_chain:,}")
    first = timed(
        "materialise the first 1,000,000 chain edges",
        lambda: sum(1 for _ in graph.chain_edges(data, limit=1_000_000)),
    )
    print(f"  materialised: {first:,}")
    cyc = timed("flag CMOCs on chain cycles (SCC, linear)", graph.chain_cycles, data)
    print(f"  CMOCs on cycles: {len(cyc):,}")
    web = timed("concept web (signed, aggregated)", graph.concept_web, data)
    print(f"  concept web: {web.number_of_nodes()} nodes, {web.number_of_edges():,} edges")
    shown = graph.strongest_edges(web, 4000)
    pos = timed(
        "layered layout of the drawn web (4,000 strongest edges)", graph.layered_layout, shown
    )
    timed("cytoscape elements", graph.to_cytoscape, shown, pos)
    hub = max(web.nodes, key=lambda n: web.nodes[n]["n_cmocs"])
    far = max(web.nodes, key=lambda n: web.nodes[n]["n_outcome"] - web.nodes[n]["n_context"])
    timed(
        "paths hub → most outcome-ish concept (≤6 steps, ≤50)", graph.concept_paths, web, hub, far
    )
    for fmt in ("jgf", "graphml", "dot", "svg"):
        body = timed(f"export {fmt} (full concept web)", graph.export, web, fmt)
        print(f"  {fmt}: {len(body) / 1e6:.1f} MB")

    client = Client()
    client.force_login(user)
    url = reverse("theory-web-data", args=[review.pk])
    for label, params in (
        ("GET web JSON endpoint, all 50k CMOCs", {}),
        (
            "GET web JSON endpoint, one phase, ≥2 sources",
            {"phase": "Theory gleaning", "min_sources": 2},
        ),
        ("GET web JSON endpoint, CMOC-chain view (edges capped)", {"level": "cmoc"}),
    ):
        times = []
        for _ in range(3):  # the machine is shared: report the median of three requests
            t = time.perf_counter()
            r = client.get(url, params)
            times.append(time.perf_counter() - t)
            assert r.status_code == 200, r.status_code
        elapsed = sorted(times)[1]
        print(f"{label:<58} {elapsed:7.3f} s  median of 3 ({len(r.content) / 1e6:.1f} MB JSON)")
    stats = r.json()["stats"]
    print(f"  last response: {stats}")
    t = time.perf_counter()
    r = client.get(reverse("theory-web-panel", args=[review.pk]), {"node": hub})
    print(f"{'GET side panel for the most-used concept':<58} {time.perf_counter() - t:7.3f} s")
    assert r.status_code == 200


if __name__ == "__main__":
    main()
