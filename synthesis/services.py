"""Writes to the review as a whole. Keyword-only, atomic, permission-checked, audited."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q

from synthesis.audit import event_record
from synthesis.concurrency import edit_lock, edit_save
from synthesis.models import Membership, Phase, Review, Role
from synthesis.permissions import Action, check


@transaction.atomic
def review_create(*, user, title: str, question: str = "", **settings_fields) -> Review:
    """A new review, owned by its creator (any signed-in user may start one)."""
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied("Sign in to start a review.")
    review = Review(title=title.strip(), question=question.strip(), created_by=user,
                    **settings_fields)  # fmt: skip
    # The model's default share is the float 0.1, which a decimal field's check reads as
    # 0.1000000000000000055…: as the decimal it is stored as.
    review.dual_fraction = Decimal(str(review.dual_fraction))
    review.full_clean()
    review.save()
    Membership.objects.create(review=review, user=user, role=Role.OWNER)
    event_record(review=review, actor=user, verb="review.create", target=review, summary=title)
    return review


# Each form's fields, with the version that counts them (synthesis.concurrency): an owner
# saving the details never conflicts with another saving the screening settings.
REVIEW_DETAILS = ("title", "question", "registration", "description", "auto_merge_threshold")
SCREENING_SETTINGS = (
    "blind_screening", "dual_fraction", "dual_seed", "maybe_counts_as",
    "highlight_include_terms", "highlight_exclude_terms",
)  # fmt: skip


@transaction.atomic
def review_update(*, user, review: Review, expected_version: int | None = None, **fields) -> Review:
    """Change the review's details (Settings page). `expected_version`: the Review.version
    the editor opened; if another owner has saved the details since, EditConflict and
    nothing changes."""
    return _review_save(
        user, review, fields, allowed=REVIEW_DETAILS, expected_version=expected_version,
        version_field="version", verb="review.update", name="the review's details",
    )  # fmt: skip


@transaction.atomic
def review_screening_update(
    *, user, review: Review, expected_version: int | None = None, **fields
) -> Review:
    """Change the screening settings (blinding, dual screening, maybe votes, highlighted
    terms). `expected_version`: the Review.screening_version the editor opened; if another
    owner has saved the screening settings since, EditConflict and nothing changes."""
    return _review_save(
        user, review, fields, allowed=SCREENING_SETTINGS, expected_version=expected_version,
        version_field="screening_version", verb="screening.settings",
        name="the screening settings",
    )  # fmt: skip


def _review_save(user, review, fields, *, allowed, expected_version, version_field, verb, name):
    check(user, review, Action.MANAGE)
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValueError(f"Unknown review setting: {', '.join(sorted(unknown))}")
    edit_lock(review, expected_version=expected_version, verbs=(verb,), name=name,
              version_field=version_field)  # fmt: skip
    old = {k: str(getattr(review, k)) for k in fields}
    for k, v in fields.items():
        setattr(review, k, v)
    review.full_clean()
    edit_save(review, fields, version_field=version_field)
    if "dual_seed" in fields and old["dual_seed"] != str(review.dual_seed):
        from studies.services.screening import record_keys_assign

        # The random screening order follows the seed: re-key every record of the review.
        record_keys_assign(review_id=review.pk, dual_seed=review.dual_seed, only_missing=False)
    event_record(
        review=review, actor=user, verb=verb, target=review,
        data={"old": old, "new": {k: str(v) for k, v in fields.items()}},
    )  # fmt: skip
    return review


@transaction.atomic
def membership_set(
    *, user, review: Review, member, role: str, expected_version: int | None = None
) -> Membership:
    """Add a member or change their role (owners only). The last owner cannot be demoted.
    `expected_version`: the Membership.version the owner's page showed; if another owner has
    changed that member's role since, EditConflict and nothing changes."""
    check(user, review, Action.MANAGE)
    if role not in Role.values:
        raise ValueError(f"Unknown role: {role}")
    _owners_lock(review)
    membership, created = Membership.objects.select_for_update().get_or_create(
        review=review, user=member, defaults={"role": role}
    )
    if not created:
        edit_lock(membership, expected_version=expected_version, verbs=("membership.set",),
                  name=lambda m: f"the role of {m.user}")  # fmt: skip
    if not created and membership.role != role:
        if (
            membership.role == Role.OWNER
            and not Membership.objects.filter(review=review, role=Role.OWNER)
            .exclude(pk=membership.pk)
            .exists()
        ):
            raise ValueError("A review needs at least one owner.")
        membership.role = role
        edit_save(membership, ["role"])
    event_record(
        review=review, actor=user, verb="membership.set", target=membership,
        summary=f"{member} → {role}",
    )  # fmt: skip
    return membership


def _owners_lock(review: Review) -> None:
    """Lock the review's owner rows (in id order) before a role change or a removal: two
    owners demoting or removing each other at the same moment would each see the other still
    an owner and leave the review with none. The second now waits, then sees the first's
    change. Taken before the member's own row, so two such changes cannot deadlock."""
    list(
        Membership.objects.select_for_update()
        .filter(review=review, role=Role.OWNER)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def membership_remove(*, user, review: Review, member) -> None:
    """Take a member off the review (owners only); their votes, codes and notes stay, with
    their name. The last owner cannot leave."""
    check(user, review, Action.MANAGE)
    _owners_lock(review)
    membership = Membership.objects.select_for_update().filter(review=review, user=member).first()
    if membership is None:
        raise ValidationError({"member": f"{member} is not a member of this review."})
    if (
        membership.role == Role.OWNER
        and not Membership.objects.filter(review=review, role=Role.OWNER)
        .exclude(pk=membership.pk)
        .exists()
    ):
        raise ValidationError({"member": "A review needs at least one owner."})
    membership.delete()
    event_record(
        review=review, actor=user, verb="membership.remove", target=review, summary=str(member)
    )


def member_find(identifier: str):
    """The account named by a username or an e-mail address (either case), or None."""
    identifier = identifier.strip()
    if not identifier:
        return None
    User = get_user_model()
    matches = list(
        User.objects.filter(
            Q(username__iexact=identifier) | Q(email__iexact=identifier), is_active=True
        )[:2]
    )
    return matches[0] if len(matches) == 1 else None


def _phase_clean(phase: Phase) -> None:
    phase.name = phase.name.strip()
    if not phase.name:
        raise ValidationError({"name": "Name the phase."})
    if (
        Phase.objects.filter(review=phase.review_id, name__iexact=phase.name)
        .exclude(pk=phase.pk)
        .exists()
    ):
        raise ValidationError({"name": f"There is already a phase named {phase.name}."})
    phase.full_clean(exclude=["review"])


@transaction.atomic
def phase_create(
    *, user, review: Review, name: str, order: int = 1, description: str = ""
) -> Phase:
    check(user, review, Action.MANAGE)
    phase = Phase(review=review, name=name, order=order, description=description.strip())
    _phase_clean(phase)
    phase.save()
    event_record(review=review, actor=user, verb="phase.create", target=phase, summary=name)
    return phase


@transaction.atomic
def phase_update(*, user, phase: Phase, expected_version: int | None = None, **fields) -> Phase:
    """`expected_version`: the Phase.version the editor opened; if another owner has saved
    the phase since, EditConflict and nothing changes."""
    check(user, phase.review_id, Action.MANAGE)
    unknown = set(fields) - {"name", "order", "description"}
    if unknown:
        raise ValueError(f"Unknown phase fields: {sorted(unknown)}")
    edit_lock(phase, expected_version=expected_version, verbs=("phase.update",),
              name=lambda p: f"the phase {p.name}")  # fmt: skip
    old = {k: str(getattr(phase, k)) for k in fields}
    for k, v in fields.items():
        setattr(phase, k, v)
    _phase_clean(phase)
    edit_save(phase, fields)
    event_record(
        review=phase.review_id, actor=user, verb="phase.update", target=phase,
        summary=phase.name, data={"old": old, "new": {k: str(v) for k, v in fields.items()}},
    )  # fmt: skip
    return phase


@transaction.atomic
def phase_delete(*, user, phase: Phase) -> None:
    """Delete a phase. Its searches, CMOCs and theory versions stay, with no phase."""
    check(user, phase.review_id, Action.MANAGE)
    event_record(review=phase.review_id, actor=user, verb="phase.delete", summary=phase.name)
    phase.delete()


def user_get_or_create(*, username: str, password: str, **fields):
    """Used by the demo loader and tests: an account with a known password."""
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults=fields)
    if created or not user.check_password(password):
        user.set_password(password)
        user.save()
    return user


@transaction.atomic
def api_token_replace(*, user, review: Review):
    """Give `user` a new REST API token; the old one stops working at once. Audited in the
    review whose API page it was replaced from (tokens belong to a person, not a review),
    without the token itself."""
    from rest_framework.authtoken.models import Token

    check(user, review, Action.VIEW)
    had_one = Token.objects.filter(user=user).delete()[0] > 0
    token = Token.objects.create(user=user)
    event_record(
        review=review, actor=user, verb="api.token_replace",
        summary="API token replaced" if had_one else "API token created",
    )  # fmt: skip
    return token
