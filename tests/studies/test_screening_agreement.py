"""Agreement statistics against worked examples, and their properties."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studies.agreement import agreement, map_vote
from studies.screening_rules import is_dual, outcome, screen_hash


def table(a, b, c, d):
    """a both include, b A include/B exclude, c A exclude/B include, d both exclude."""
    return (
        [("include", "include")] * a
        + [("include", "exclude")] * b
        + [("exclude", "include")] * c
        + [("exclude", "exclude")] * d
    )


def test_worked_example_n200():
    r = agreement(table(8, 4, 4, 184))
    assert r.n == 200
    assert r.percent_agreement == pytest.approx(0.96)
    assert r.expected_agreement == pytest.approx(0.8872)
    assert r.kappa == pytest.approx(0.645, abs=5e-4)
    assert r.pabak == pytest.approx(0.92)
    assert r.ac1 == pytest.approx(0.955, abs=5e-4)
    assert r.prevalence_index == pytest.approx(-0.88)
    assert r.bias_index == pytest.approx(0.0)
    assert r.positive_agreement == pytest.approx(16 / 24)
    assert r.negative_agreement == pytest.approx(368 / 376)
    # Cohen's SE: sqrt(po(1-po) / (n (1-pe)^2))
    assert r.kappa_se == pytest.approx((0.96 * 0.04 / (200 * 0.1128**2)) ** 0.5)
    lo, hi = r.kappa_ci
    assert lo < r.kappa < hi


def test_textbook_example_kappa_04():
    # Sim & Wright style table: 20/5/10/15 → po .7, pe .5, kappa .4
    r = agreement(table(20, 5, 10, 15))
    assert r.percent_agreement == pytest.approx(0.7)
    assert r.expected_agreement == pytest.approx(0.5)
    assert r.kappa == pytest.approx(0.4)
    assert r.bias_index == pytest.approx(-0.1)


def test_maybe_modes():
    pairs = [("maybe", "include")] * 3 + [("maybe", "exclude")] * 2 + [("exclude", "exclude")] * 5
    as_include = agreement(pairs, maybe="include")
    assert as_include.percent_agreement == pytest.approx(0.8)
    as_exclude = agreement(pairs, maybe="exclude")
    assert as_exclude.percent_agreement == pytest.approx(0.7)
    separate = agreement(pairs, maybe="separate")
    assert separate.categories == ("include", "exclude", "maybe")
    assert separate.percent_agreement == pytest.approx(0.5)
    assert separate.prevalence_index is None  # 2×2-only index
    assert separate.pabak == pytest.approx((3 * 0.5 - 1) / 2)
    assert separate.specific_agreement["exclude"] == pytest.approx(10 / 12)
    with pytest.raises(ValueError):
        map_vote("maybe", "sometimes")


def test_degenerate_tables():
    empty = agreement([])
    assert empty.n == 0 and empty.kappa is None and empty.percent_agreement is None
    same = agreement([("exclude", "exclude")] * 10)
    assert same.percent_agreement == 1 and same.kappa is None  # undefined, not 0 or 1
    assert same.pabak == 1 and same.ac1 == pytest.approx(1)


votes = st.sampled_from(["include", "exclude", "maybe"])
pair_lists = st.lists(st.tuples(votes, votes), min_size=1, max_size=300)
modes = st.sampled_from(["include", "exclude", "separate"])


@given(pair_lists, modes)
def test_bounds(pairs, mode):
    r = agreement(pairs, maybe=mode)
    assert 0 <= r.percent_agreement <= 1
    assert -1 - 1e-9 <= r.pabak <= 1 + 1e-9
    if r.kappa is not None:
        assert -1 - 1e-9 <= r.kappa <= 1 + 1e-9
        assert r.kappa_se >= 0
    if r.ac1 is not None:
        assert -1 - 1e-9 <= r.ac1 <= 1 + 1e-9
    for v in r.specific_agreement.values():
        assert v is None or 0 <= v <= 1


@given(pair_lists, modes)
def test_symmetric_in_raters(pairs, mode):
    r = agreement(pairs, maybe=mode)
    s = agreement([(b, a) for a, b in pairs], maybe=mode)
    for attr in ("percent_agreement", "expected_agreement", "kappa", "pabak", "ac1"):
        x, y = getattr(r, attr), getattr(s, attr)
        assert (x is None and y is None) or x == pytest.approx(y)
    if r.bias_index is not None:
        assert r.bias_index == pytest.approx(-s.bias_index)
        assert r.prevalence_index == pytest.approx(s.prevalence_index)


@given(st.lists(votes, min_size=1, max_size=100), modes)
def test_perfect_agreement(vs, mode):
    r = agreement([(v, v) for v in vs], maybe=mode)
    assert r.percent_agreement == 1 and r.pabak == 1
    assert r.kappa is None or r.kappa == pytest.approx(1)


def test_dual_subset_is_reproducible_and_about_the_fraction():
    ids = range(1, 20001)
    chosen = [i for i in ids if is_dual(i, 20200220, 0.1)]
    assert 0.09 < len(chosen) / 20000 < 0.11
    assert chosen == [i for i in ids if is_dual(i, 20200220, 0.1)]
    other = {i for i in ids if is_dual(i, 7, 0.1)}
    assert other != set(chosen)
    assert all(is_dual(i, 7, 1) for i in range(1, 100))
    assert not any(is_dual(i, 7, 0) for i in range(1, 100))
    # No regular stride: gaps between chosen records vary.
    gaps = {b - a for a, b in zip(chosen, chosen[1:], strict=False)}
    assert len(gaps) > 20
    assert 0 <= screen_hash(10**9, 2**32) < 2**31


def test_outcome_rules():
    assert outcome([], None, dual=False, maybe="include") == "pending"
    assert outcome(["include"], None, dual=False, maybe="include") == "include"
    assert outcome(["include"], None, dual=True, maybe="include") == "pending"
    assert outcome(["include", "exclude"], None, dual=True, maybe="include") == "conflict"
    assert outcome(["include", "maybe"], None, dual=True, maybe="include") == "include"
    assert outcome(["include", "maybe"], None, dual=True, maybe="separate") == "conflict"
    assert outcome(["maybe"], None, dual=False, maybe="exclude") == "exclude"
    assert outcome(["include", "exclude"], "exclude", dual=True, maybe="include") == "exclude"


def test_few_records_give_a_confidence_interval_within_kappas_range():
    r = agreement(table(4, 1, 0, 0))  # 4 of 5 agree, one category each time: kappa 0
    assert r.kappa == pytest.approx(0.0)
    assert r.kappa_ci == (-1.0, 1.0)


@given(st.lists(st.sampled_from([("include", "include"), ("include", "exclude"),
                                 ("exclude", "include"), ("exclude", "exclude")]),
                min_size=1, max_size=60))  # fmt: skip
def test_kappa_ci_always_holds_kappa_and_stays_within_minus_one_and_one(pairs):
    r = agreement(pairs)
    if r.kappa_ci is not None:
        lo, hi = r.kappa_ci
        assert -1.0 <= lo <= r.kappa + 1e-12 and r.kappa - 1e-12 <= hi <= 1.0
