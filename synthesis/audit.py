from synthesis.models import ReviewEvent


def event_record(
    *, review, actor, verb: str, target=None, summary: str = "", data: dict | None = None
) -> ReviewEvent:
    """Write one audit event. Called by every service that changes review data."""
    return ReviewEvent.objects.create(
        review_id=review if isinstance(review, int) else review.pk,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        verb=verb,
        target_type=target._meta.model_name if target is not None else "",
        target_id=target.pk if target is not None else None,
        summary=summary[:300],
        data=data or {},
    )
