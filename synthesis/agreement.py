"""Inter-reviewer agreement for screening: percent agreement and Cohen's kappa for two
reviewers. Plain Python (no Django) so it is tested on its own."""

from collections import Counter
from collections.abc import Sequence


def percent_agreement(a: Sequence[str], b: Sequence[str]) -> float | None:
    if len(a) != len(b):
        raise ValueError("Both reviewers must rate the same items.")
    if not a:
        return None
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa; None when undefined (no items), 1.0 when both raters used a single
    identical category throughout (perfect agreement, zero chance-disagreement)."""
    po = percent_agreement(a, b)
    if po is None:
        return None
    n = len(a)
    ca, cb = Counter(a), Counter(b)
    pe = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    if pe == 1:
        return 1.0 if po == 1 else 0.0
    return (po - pe) / (1 - pe)


def pairwise(votes: dict[str, dict[str, str]]) -> list[dict]:
    """votes: {item: {reviewer: label}} → one row per reviewer pair with shared items."""
    pairs: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    for by_reviewer in votes.values():
        names = sorted(by_reviewer)
        for i, r1 in enumerate(names):
            for r2 in names[i + 1 :]:
                xs, ys = pairs.setdefault((r1, r2), ([], []))
                xs.append(by_reviewer[r1])
                ys.append(by_reviewer[r2])
    rows = []
    for (r1, r2), (xs, ys) in sorted(pairs.items()):
        rows.append(
            {
                "reviewer_1": r1,
                "reviewer_2": r2,
                "n": len(xs),
                "agreed": sum(x == y for x, y in zip(xs, ys, strict=True)),
                "percent_agreement": percent_agreement(xs, ys),
                "kappa": cohen_kappa(xs, ys),
            }
        )
    return rows
