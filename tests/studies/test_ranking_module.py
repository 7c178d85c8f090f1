"""The plain-Python ranking and stopping modules (no database)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studies import ranking, ranking_sim, stopping

INCLUDE = [
    "realist synthesis of collaboration between universities and health services",
    "partnership working between academic and NHS organisations: a realist review",
    "context mechanism outcome configurations in research collaboration",
]
EXCLUDE = [
    "randomised trial of statin dosing in elderly patients",
    "pharmacokinetics of a new anticoagulant in healthy volunteers",
    "surgical outcomes after hip replacement: a cohort study",
]
UNSEEN = [
    "a realist evaluation of collaboration between academics and health services",
    "statin dosing and bleeding in a randomised trial",
]


@pytest.mark.parametrize("name", ranking.MODELS)
def test_every_model_ranks_the_relevant_record_first(name):
    model = ranking.train(INCLUDE + EXCLUDE, [1, 1, 1, 0, 0, 0], model=name, corpus=UNSEEN)
    s = ranking.score(model, UNSEEN)
    assert s.shape == (2,)
    assert ((s >= 0) & (s <= 1)).all()
    assert s[0] > s[1]
    assert list(ranking.rank(s)) == [0, 1]


def test_training_is_deterministic():
    a = ranking.score(ranking.train(INCLUDE + EXCLUDE, [1, 1, 1, 0, 0, 0]), UNSEEN)
    b = ranking.score(ranking.train(INCLUDE + EXCLUDE, [1, 1, 1, 0, 0, 0]), UNSEEN)
    assert np.array_equal(a, b)


def test_training_needs_both_classes():
    with pytest.raises(ValueError, match="include and one exclude"):
        ranking.train(INCLUDE, [1, 1, 1])
    with pytest.raises(ValueError, match="length"):
        ranking.train(INCLUDE, [1])
    with pytest.raises(ValueError, match="Unknown model"):
        ranking.train(INCLUDE + EXCLUDE, [1, 1, 1, 0, 0, 0], model="gpt")


def test_top_terms_name_the_words_that_raised_the_score():
    model = ranking.train(INCLUDE + EXCLUDE, [1, 1, 1, 0, 0, 0], corpus=UNSEEN)
    terms = ranking.top_terms(model, UNSEEN[0], k=3)
    assert 1 <= len(terms) <= 3
    assert any(t in {"realist", "collaboration", "health services", "health"} for t in terms)
    # Terms of an excluded-looking record never include words that pushed it down.
    assert all(model.weight_of(t) > 0 for t in ranking.top_terms(model, UNSEEN[1], k=5))
    X = model.vectoriser.transform(UNSEEN)
    assert ranking.top_terms_many(model, UNSEEN, X, k=3)[0] == terms
    assert ranking.top_terms(model, "", k=3) == []


def test_cached_counts_give_the_same_model_as_texts():
    counts = ranking.term_counts(INCLUDE + EXCLUDE)
    a = ranking.train(INCLUDE + EXCLUDE, [1, 1, 1, 0, 0, 0], corpus=UNSEEN)
    b = ranking.train(
        [], [1, 1, 1, 0, 0, 0], counts=counts, corpus_counts=ranking.term_counts(UNSEEN)
    )
    assert np.allclose(ranking.score(a, UNSEEN), ranking.score(b, UNSEEN))


def test_rank_breaks_ties_by_input_order():
    assert list(ranking.rank([0.5, 0.9, 0.5, 0.9])) == [1, 3, 0, 2]


def test_record_text_repeats_title_and_joins_keywords():
    assert ranking.record_text("T", "A", ["k1", "k2"]) == "T T A k1 ; k2"
    assert ranking.record_text("", None, None) == ""


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1, allow_nan=False), min_size=0, max_size=50))
def test_rank_is_a_permutation_sorted_by_score(scores):
    order = ranking.rank(scores)
    assert sorted(order.tolist()) == list(range(len(scores)))
    ordered = [scores[i] for i in order]
    assert all(a >= b for a, b in zip(ordered, ordered[1:], strict=False))


# --- stopping ---------------------------------------------------------------------------


def test_since_last_include():
    assert stopping.since_last_include([]) == 0
    assert stopping.since_last_include([0, 0]) == 2
    assert stopping.since_last_include([1, 0, 1, 0, 0, 0]) == 3
    assert stopping.since_last_include([0, 1]) == 0


def test_knee_rule_met_after_a_long_flat_tail():
    # 50 includes in the first 100 records, then 400 excludes: a sharp knee.
    history = [i % 2 == 0 for i in range(100)] + [False] * 400
    k = stopping.knee(history)
    assert k.met
    assert k.knee_at is not None and 90 <= k.knee_at <= 110
    assert k.rho >= k.threshold == 156 - 50


def test_knee_rule_not_met_while_includes_keep_coming():
    history = [i % 5 == 0 for i in range(500)]
    assert not stopping.knee(history).met
    assert not stopping.knee([True] * 10 + [False] * 100).met  # fewer than 150 screened
    assert stopping.knee([False] * 300).rho is None


def test_recall_estimate_names_its_method_and_is_cautious():
    history = [True] * 20 + [False] * 200
    est = stopping.recall_estimate(history, remaining=1000, window=100)
    assert "last 100" in est.method
    assert est.window_includes == 0
    assert est.recall == 1.0  # point estimate: no includes recently
    # Rule of three: about 3 % of 1000 remaining could still be relevant.
    assert 0.35 < est.recall_low < 0.45
    g = stopping.guidance(history, 1000)
    assert g.since_last_include == 200 and g.included == 20 and g.remaining == 1000
    assert "estimates" in g.warning


def test_guidance_on_empty_history():
    g = stopping.guidance([], 10)
    assert g.screened == 0 and g.estimate.recall is None and not g.knee.met
    with pytest.raises(ValueError):
        stopping.guidance([], -1)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.booleans(), max_size=300), st.integers(min_value=0, max_value=5000))
def test_guidance_invariants(history, remaining):
    g = stopping.guidance(history, remaining)
    assert 0 <= g.since_last_include <= len(history)
    if g.estimate.recall is not None:
        assert 0 <= g.estimate.recall_low <= g.estimate.recall <= 1
    if g.knee.met:
        assert len(history) >= 150
    if remaining == 0 and any(history):
        assert g.estimate.recall == 1.0


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=100), st.integers(min_value=1, max_value=100))
def test_rate_upper_bounds_the_observed_rate(k, n):
    k = min(k, n)
    assert k / n <= stopping.rate_upper(k, n) <= 1
    if k == 0:
        assert math.isclose(stopping.rate_upper(0, n), 1 - 0.05 ** (1 / n), rel_tol=1e-6)


# --- simulation metrics ---------------------------------------------------------------


def test_metrics_on_a_perfect_and_a_worst_order():
    labels = np.array([1] * 10 + [0] * 90, dtype=np.int8)
    best = ranking_sim.metrics(labels, list(range(100)), n_total=100)
    assert best["records_to_100"] == 10 and best["records_to_95"] == 10
    assert best["wss@100"] == 0.9 and best["wss@95"] == 0.85 and best["rrf@10"] == 1.0
    worst = ranking_sim.metrics(labels, list(range(99, -1, -1)), n_total=100)
    assert worst["records_to_100"] == 100 and worst["wss@100"] == 0.0
    assert worst["rrf@10"] == 0.0
    assert worst["recall_curve"][-1] == [100, 1.0]


def test_simulation_beats_random_on_separable_data(tmp_path):
    rows = ["title,abstract,label"]
    for i in range(60):
        rows.append(f"realist collaboration review {i},partnership mechanism context {i},1")
    for i in range(240):
        rows.append(f"drug trial {i},dose pharmacokinetics placebo {i},0")
    path = tmp_path / "toy.csv"
    path.write_text("\n".join(rows))
    ds = ranking_sim.load_dataset(path, "label")
    out = ranking_sim.run(ds, seeds=2, asreview=False)
    assert out["results"]["logistic"]["mean"]["wss@95"] > 0.7
    assert out["results"]["logistic"]["mean"]["wss@95"] > out["results"]["random"]["mean"]["wss@95"]
    assert "not compared" in out["asreview"]


def test_dataset_errors_are_clear(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("title,abstract,label\na,b,maybe\n")
    with pytest.raises(ranking_sim.DatasetError, match="bad.csv record 1"):
        ranking_sim.load_dataset(p, "label")
    with pytest.raises(ranking_sim.DatasetError, match="no label column 'nope'"):
        ranking_sim.load_dataset(p, "nope")
    with pytest.raises(ranking_sim.DatasetError, match="no such file"):
        ranking_sim.load_dataset(tmp_path / "missing.csv", "label")


def test_ris_with_a_label_tag(tmp_path):
    p = tmp_path / "l.ris"
    p.write_text(
        "TY  - JOUR\nTI  - realist review\nAB  - context\nLB  - 1\nER  - \n\n"
        "TY  - JOUR\nTI  - drug trial\nAB  - dose\nLB  - 0\nER  - \n"
    )
    ds = ranking_sim.load_dataset(p, "LB")
    assert ds.labels.tolist() == [1, 0]
    assert ds.titles == ["realist review", "drug trial"]


def test_simulate_screening_command_prints_json(tmp_path, capsys):
    import json

    from django.core.management import CommandError, call_command

    rows = ["title,abstract,included"]
    rows += [f"realist collaboration {i},mechanism context {i},1" for i in range(10)]
    rows += [f"drug trial {i},placebo dose {i},0" for i in range(40)]
    path = tmp_path / "toy.csv"
    path.write_text("\n".join(rows))
    call_command(
        "simulate_screening",
        str(path),
        "--label-column",
        "included",
        "--seeds",
        "2",
        "--json",
        "--no-asreview",
    )
    out = json.loads(capsys.readouterr().out)
    res = out["results"]["logistic"]
    assert len(res["seeds"]) == 2 and {"wss@95", "wss@100", "rrf@10"} <= set(res["mean"])
    assert res["seeds"][0]["records_to_100"] <= out["records"]
    assert "random" in out["results"] and out["asreview"].startswith("not compared")
    with pytest.raises(CommandError, match="no label column"):
        call_command("simulate_screening", str(path), "--label-column", "nope", "--json")
