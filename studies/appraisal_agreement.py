"""Agreement between two appraisers, per appraisal dimension. Plain Python (no Django) so it
can be tested on its own.

Percent agreement is what realist reviews report for a second appraiser on a subset; kappa
is not meaningful on the handful of doubly appraised items a realist review usually has.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

DIMENSIONS: tuple[str, ...] = (
    "relevance",
    "richness",
    "rigour",
    "data_supports_claim",
    "verdict",
)
LABELS = {
    "relevance": "Relevance",
    "richness": "Richness",
    "rigour": "Rigour",
    "data_supports_claim": "Data support the claim",
    "verdict": "Decision",
}


@dataclass(frozen=True)
class DimensionAgreement:
    dimension: str
    n: int  # pairs where both appraisers rated this dimension
    agreed: int

    @property
    def label(self) -> str:
        return LABELS.get(self.dimension, self.dimension)

    @property
    def percent(self) -> float | None:
        return None if self.n == 0 else 100.0 * self.agreed / self.n


def percent_agreement(pairs: Iterable[tuple[str, str]]) -> tuple[int, int]:
    """(number of comparable pairs, number that agree). Blank ratings are not comparable."""
    n = agreed = 0
    for a, b in pairs:
        if a in ("", None) or b in ("", None):
            continue
        n += 1
        agreed += a == b
    return n, agreed


def agreement_by_dimension(
    pairs: Iterable[tuple[Mapping[str, str], Mapping[str, str]]],
    dimensions: Sequence[str] = DIMENSIONS,
) -> list[DimensionAgreement]:
    """Per-dimension agreement over pairs of appraisals (each a mapping dimension → rating)."""
    pairs = list(pairs)
    out = []
    for dim in dimensions:
        n, agreed = percent_agreement((a.get(dim, ""), b.get(dim, "")) for a, b in pairs)
        out.append(DimensionAgreement(dimension=dim, n=n, agreed=agreed))
    return out
