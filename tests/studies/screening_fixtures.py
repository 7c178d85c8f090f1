"""Data for the screening tests: a review with two stages and N unique records."""

from studies.models import Record, ScreeningStage
from studies.services import screening as svc


def make_records(review, n: int, start: int = 0, **extra) -> list[Record]:
    """Like an import: bulk-created, then keyed for the random order."""
    records = Record.objects.bulk_create(
        [
            Record(
                review=review,
                title=f"Record {i} about care home collaboration",
                abstract=f"Abstract {i}: integrated care in hospitals and paediatric wards.",
                authors=[f"Author{i}, A.", "Other, B."],
                year=2000 + i % 20,
                journal="Journal of Care",
                doi=f"10.1000/rec{i}",
                keywords=["collaboration", "care"],
                position=i,
                **extra,
            )
            for i in range(start, start + n)
        ]
    )
    svc.record_keys_assign(review_id=review.pk, dual_seed=review.dual_seed)
    for r in records:
        r.refresh_from_db(fields=["screen_key"])
    return records


def make_stages(review, owner) -> tuple[ScreeningStage, ScreeningStage]:
    ta, ft = svc.stages_create_default(user=owner, review=review)
    ta.review = review
    ft.review = review
    return ta, ft
