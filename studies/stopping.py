"""Stopping guidance for prioritised screening. Plain Python (no Django).

Input: the screening history of a stage in the order records were screened (True = the
record was included) and how many records are still unscreened. Output: figures a reviewer
can weigh before deciding to stop, each with its method named. They are estimates: no rule
here guarantees a recall, and nothing is excluded by this module.

Methods
- Records screened since the last include (the simple "N consecutive irrelevant" heuristic).
- Knee method (Cormack & Grossman 2016, "Engineering quality and reliability in
  technology-assisted review", SIGIR): find the knee of the gain curve (relevant found vs
  screened) and the slope ratio rho = slope before the knee / slope after it; the rule is
  met when rho >= 156 - min(relevant found, 150) and at least 150 records were screened.
- Recent-rate extrapolation: the include rate among the last `window` screened records,
  extrapolated to the unscreened ones. With a prioritised order the rate among unscreened
  records should be no higher than the recent rate, so this tends to under-estimate recall;
  the one-sided 95 % upper bound on the rate (Clopper-Pearson; about 3/window when none were
  found, the "rule of three") gives a cautious lower figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from scipy.stats import beta

KNEE_METHOD = "Knee method (Cormack & Grossman 2016)"
RATE_METHOD = "Recent-rate extrapolation over the last {window} screened records"
WARNING = (
    "These are estimates from the screening so far, not guarantees. Records the model ranks "
    "low can still be relevant; stopping early is a judgement for the review team."
)


@dataclass(frozen=True)
class Knee:
    met: bool
    rho: float | None
    threshold: float
    knee_at: int | None  # records screened at the knee
    min_screened: int = 150

    @property
    def method(self) -> str:
        return KNEE_METHOD


@dataclass(frozen=True)
class RecallEstimate:
    method: str
    window: int
    window_includes: int
    expected_remaining: float  # point estimate of relevant records not yet screened
    recall: float | None  # point estimate
    recall_low: float | None  # cautious figure (upper 95 % bound on the rate)


@dataclass(frozen=True)
class StoppingGuidance:
    screened: int
    included: int
    remaining: int
    since_last_include: int
    knee: Knee
    estimate: RecallEstimate
    warning: str = WARNING

    def as_dict(self) -> dict:
        return asdict(self)


def since_last_include(history: Sequence[bool]) -> int:
    """Records screened after the most recent include (all of them if none was included)."""
    for i in range(len(history) - 1, -1, -1):
        if history[i]:
            return len(history) - 1 - i
    return len(history)


def knee(history: Sequence[bool], *, min_screened: int = 150) -> Knee:
    """Cormack & Grossman's knee method on the gain curve of `history`."""
    s = len(history)
    gain = []
    found = 0
    for h in history:
        found += 1 if h else 0
        gain.append(found)
    threshold = 156 - min(found, 150)
    if s < 2 or found == 0:
        return Knee(
            met=False, rho=None, threshold=threshold, knee_at=None, min_screened=min_screened
        )
    # The knee is the point farthest above the straight line from (0, 0) to (s, found).
    best_i, best_d = 1, float("-inf")
    for i in range(1, s):
        d = gain[i - 1] * s - found * i  # proportional to the perpendicular distance
        if d > best_d:
            best_i, best_d = i, d
    r_i = gain[best_i - 1]
    if r_i == 0:
        return Knee(
            met=False, rho=None, threshold=threshold, knee_at=best_i, min_screened=min_screened
        )
    rho = (r_i / best_i) / ((found - r_i + 1) / (s - best_i))
    return Knee(
        met=bool(rho >= threshold and s >= min_screened),
        rho=round(rho, 2),
        threshold=threshold,
        knee_at=best_i,
        min_screened=min_screened,
    )


def rate_upper(k: int, n: int, confidence: float = 0.95) -> float:
    """One-sided Clopper-Pearson upper bound on a proportion k/n."""
    if n <= 0:
        return 1.0
    if k >= n:
        return 1.0
    return float(beta.ppf(confidence, k + 1, n - k))


def recall_estimate(
    history: Sequence[bool], remaining: int, *, window: int = 100
) -> RecallEstimate:
    found = sum(1 for h in history if h)
    w = min(window, len(history))
    k = sum(1 for h in history[len(history) - w :] if h) if w else 0
    method = RATE_METHOD.format(window=w)
    if w == 0:
        return RecallEstimate(method, 0, 0, float("nan"), None, None)
    rate = k / w
    expected = rate * remaining
    upper = rate_upper(k, w) * remaining
    recall = found / (found + expected) if found + expected > 0 else None
    low = found / (found + upper) if found + upper > 0 else None
    return RecallEstimate(
        method=method,
        window=w,
        window_includes=k,
        expected_remaining=round(expected, 1),
        recall=None if recall is None else round(recall, 4),
        recall_low=None if low is None else round(low, 4),
    )


def guidance(history: Sequence[bool], remaining: int, *, window: int = 100) -> StoppingGuidance:
    history = [bool(h) for h in history]
    if remaining < 0:
        raise ValueError("remaining cannot be negative")
    return StoppingGuidance(
        screened=len(history),
        included=sum(history),
        remaining=remaining,
        since_last_include=since_last_include(history),
        knee=knee(history),
        estimate=recall_estimate(history, remaining, window=window),
    )
