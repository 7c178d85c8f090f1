"""Inter-rater agreement for dual screening, on the independent votes before reconciliation.

Plain Python (no Django): percent agreement, Cohen's kappa with its standard error, PABAK,
Gwet's AC1, Byrt's prevalence and bias indices, positive/negative specific agreement.
Hand-written because the formulas are short and the libraries that have them (statsmodels,
irrCAC) would add heavy dependencies for a dozen lines of arithmetic.

"maybe" votes are mapped before counting: as include, as exclude, or kept as their own
category (then the statistics are the multi-category generalisations and the 2×2-only
indices — prevalence, bias, positive/negative agreement — are per category or None).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

INCLUDE, EXCLUDE, MAYBE = "include", "exclude", "maybe"
MAYBE_MODES = ("include", "exclude", "separate")


def map_vote(vote: str, maybe: str = "include") -> str:
    """The category a vote counts as, given how the review counts "maybe"."""
    if maybe not in MAYBE_MODES:
        raise ValueError(f"maybe must be one of {MAYBE_MODES}, not {maybe!r}")
    if vote == MAYBE and maybe != "separate":
        return maybe
    return vote


@dataclass(frozen=True)
class Agreement:
    n: int
    categories: tuple[str, ...]
    table: dict[tuple[str, str], int] = field(repr=False)
    percent_agreement: float | None
    expected_agreement: float | None
    kappa: float | None
    kappa_se: float | None
    kappa_ci: tuple[float, float] | None
    pabak: float | None
    ac1: float | None
    prevalence_index: float | None
    bias_index: float | None
    positive_agreement: float | None
    negative_agreement: float | None
    specific_agreement: dict[str, float | None] = field(default_factory=dict)

    def cell(self, a: str, b: str) -> int:
        return self.table.get((a, b), 0)


def agreement(
    pairs: Iterable[tuple[str, str]],
    *,
    maybe: str = "include",
    categories: Iterable[str] | None = None,
) -> Agreement:
    """Agreement between two raters. `pairs` holds (rater A's vote, rater B's vote) per record."""
    return agreement_from_counts(Counter(pairs), maybe=maybe, categories=categories)


def agreement_from_counts(
    counts: Mapping[tuple[str, str], int],
    *,
    maybe: str = "include",
    categories: Iterable[str] | None = None,
) -> Agreement:
    """The same, from the cross-table: how many records got (A's vote, B's vote), e.g.
    counted by one grouped database query instead of loading every vote."""
    table: Counter[tuple[str, str]] = Counter()
    for (a, b), count in counts.items():
        if count:
            table[(map_vote(a, maybe), map_vote(b, maybe))] += count
    if categories is None:
        cats = [INCLUDE, EXCLUDE] + ([MAYBE] if maybe == "separate" else [])
    else:
        cats = list(categories)
    for a, b in table:
        for v in (a, b):
            if v not in cats:
                cats.append(v)
    n = sum(table.values())
    k = len(cats)
    rows = {c: sum(table[(c, d)] for d in cats) for c in cats}
    cols = {c: sum(table[(d, c)] for d in cats) for c in cats}
    specific = {
        c: (2 * table[(c, c)] / (rows[c] + cols[c])) if rows[c] + cols[c] else None for c in cats
    }
    if n == 0:
        return Agreement(
            n=0, categories=tuple(cats), table=dict(table), percent_agreement=None,
            expected_agreement=None, kappa=None, kappa_se=None, kappa_ci=None, pabak=None,
            ac1=None, prevalence_index=None, bias_index=None, positive_agreement=None,
            negative_agreement=None, specific_agreement=specific,
        )  # fmt: skip
    p_o = sum(table[(c, c)] for c in cats) / n
    p_e = sum(rows[c] * cols[c] for c in cats) / (n * n)
    if p_e < 1:
        kappa = (p_o - p_e) / (1 - p_e)
        # Cohen's (1960) large-sample standard error.
        se = math.sqrt(max(p_o * (1 - p_o), 0.0) / (n * (1 - p_e) ** 2))
        # The Wald interval, cut to kappa's range: with few records (4 of 5 agreeing) it runs
        # past ±1, bounds no kappa can reach.
        ci = (max(-1.0, kappa - 1.96 * se), min(1.0, kappa + 1.96 * se))
    else:  # both raters used one category only: kappa is undefined
        kappa = se = ci = None
    pabak = (k * p_o - 1) / (k - 1)
    # Gwet's AC1: chance agreement from the mean marginal proportion of each category.
    pi = {c: (rows[c] + cols[c]) / (2 * n) for c in cats}
    pe_gwet = sum(p * (1 - p) for p in pi.values()) / (k - 1)
    ac1 = (p_o - pe_gwet) / (1 - pe_gwet) if pe_gwet < 1 else None
    prevalence = bias = pos = neg = None
    if k == 2:
        a, d = table[(cats[0], cats[0])], table[(cats[1], cats[1])]
        b, c = table[(cats[0], cats[1])], table[(cats[1], cats[0])]
        prevalence = (a - d) / n
        bias = (b - c) / n
        pos, neg = specific[cats[0]], specific[cats[1]]
    return Agreement(
        n=n, categories=tuple(cats), table=dict(table), percent_agreement=p_o,
        expected_agreement=p_e, kappa=kappa, kappa_se=se, kappa_ci=ci, pabak=pabak, ac1=ac1,
        prevalence_index=prevalence, bias_index=bias, positive_agreement=pos,
        negative_agreement=neg, specific_agreement=specific,
    )  # fmt: skip
