"""Programme theory versions for the demo review, called by `load_demo` once its CMOCs exist.

v1 freezes the theory gleaned from the literature (seed Box 1, phase "Theory gleaning",
codes B1-…); v2 adds the realist evaluation's CMOCs (Box 2), many of which refine or refute
Box 1 — so comparing v1 with v2 shows what the evaluation changed.
"""

from cmoc.models import CMOC, TheoryVersion
from cmoc.services.theory import theory_version_create

GLEANING_PHASE = "theory gleaning"


def build_demo_versions(*, review, user) -> list[TheoryVersion]:
    if TheoryVersion.objects.filter(review=review).exists():
        return list(TheoryVersion.objects.filter(review=review))  # idempotent re-runs
    rows = CMOC.objects.filter(review=review).values_list("pk", "code", "phase__name")
    box1 = [
        pk
        for pk, code, phase in rows
        if (phase or "").strip().lower() == GLEANING_PHASE or code.upper().startswith("B1-")
    ]
    v1 = theory_version_create(
        review=review,
        user=user,
        label="Gleaned programme theory (Box 1)",
        kind=TheoryVersion.Kind.GLEANED,
        rationale=(
            "CMOCs gleaned from the literature in the theory gleaning phase (seed Box 1): "
            "trust, faith, task complexity and the other initial mechanisms."
        ),
        cmoc_ids=box1,
    )
    v2 = theory_version_create(
        review=review,
        user=user,
        label="Realist evaluation (Box 2 added)",
        kind=TheoryVersion.Kind.EVALUATED,
        rationale=(
            "The gleaned theory tested against interviews and case studies in the realist "
            "evaluation (seed Box 2): new CMOCs affirm, refine or refute the Box 1 theory."
        ),
    )
    return [v1, v2]
