"""Writes to the review as a whole. Keyword-only, atomic, permission-checked, audited."""

from django.contrib.auth import get_user_model
from django.db import transaction

from synthesis.audit import event_record
from synthesis.models import Membership, Phase, Review, Role
from synthesis.permissions import Action, check


@transaction.atomic
def review_create(*, user, title: str, question: str = "", **settings_fields) -> Review:
    review = Review.objects.create(
        title=title, question=question, created_by=user, **settings_fields
    )
    Membership.objects.create(review=review, user=user, role=Role.OWNER)
    event_record(review=review, actor=user, verb="review.create", target=review, summary=title)
    return review


@transaction.atomic
def review_update(*, user, review: Review, **fields) -> Review:
    check(user, review, Action.MANAGE)
    allowed = {
        "title", "question", "registration", "description", "blind_screening", "dual_fraction",
        "dual_seed", "maybe_counts_as", "highlight_include_terms", "highlight_exclude_terms",
        "auto_merge_threshold",
    }  # fmt: skip
    old = {k: str(getattr(review, k)) for k in fields if k in allowed}
    for k, v in fields.items():
        if k not in allowed:
            raise ValueError(f"Unknown review setting: {k}")
        setattr(review, k, v)
    review.full_clean()
    review.save()
    if "dual_seed" in fields and old["dual_seed"] != str(review.dual_seed):
        from studies.services.screening import record_keys_assign

        # The random screening order follows the seed: re-key every record of the review.
        record_keys_assign(review_id=review.pk, dual_seed=review.dual_seed, only_missing=False)
    event_record(
        review=review, actor=user, verb="review.update", target=review,
        data={"old": old, "new": {k: str(v) for k, v in fields.items()}},
    )  # fmt: skip
    return review


@transaction.atomic
def membership_set(*, user, review: Review, member, role: str) -> Membership:
    """Add a member or change their role (owners only). The last owner cannot be demoted."""
    check(user, review, Action.MANAGE)
    if role not in Role.values:
        raise ValueError(f"Unknown role: {role}")
    membership, created = Membership.objects.select_for_update().get_or_create(
        review=review, user=member, defaults={"role": role}
    )
    if not created and membership.role != role:
        if (
            membership.role == Role.OWNER
            and not Membership.objects.filter(review=review, role=Role.OWNER)
            .exclude(pk=membership.pk)
            .exists()
        ):
            raise ValueError("A review needs at least one owner.")
        membership.role = role
        membership.save(update_fields=["role"])
    event_record(
        review=review, actor=user, verb="membership.set", target=membership,
        summary=f"{member} → {role}",
    )  # fmt: skip
    return membership


@transaction.atomic
def phase_create(
    *, user, review: Review, name: str, order: int = 1, description: str = ""
) -> Phase:
    check(user, review, Action.MANAGE)
    phase = Phase.objects.create(review=review, name=name, order=order, description=description)
    event_record(review=review, actor=user, verb="phase.create", target=phase, summary=name)
    return phase


def user_get_or_create(*, username: str, password: str, **fields):
    """Used by the demo loader and tests: an account with a known password."""
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults=fields)
    if created or not user.check_password(password):
        user.set_password(password)
        user.save()
    return user
