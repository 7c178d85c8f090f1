"""Who may do what in a review. Every view, endpoint and service asks here.

Non-members get 404 (a review's existence is not disclosed); members whose role does not
allow an action get 403.
"""

from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.http import Http404

from synthesis.models import Membership, Review, Role


class Action(StrEnum):
    VIEW = "view"
    EXPORT = "export"  # analysts and up
    SCREEN = "screen"
    EDIT_EVIDENCE = "edit_evidence"  # code, appraise, extract, import
    MANAGE = "manage"  # settings, members, criteria, resolutions


ALLOWED: dict[Action, set[str]] = {
    Action.VIEW: {Role.OWNER, Role.REVIEWER, Role.ANALYST, Role.VIEWER},
    Action.EXPORT: {Role.OWNER, Role.REVIEWER, Role.ANALYST},
    Action.SCREEN: {Role.OWNER, Role.REVIEWER},
    Action.EDIT_EVIDENCE: {Role.OWNER, Role.REVIEWER},
    Action.MANAGE: {Role.OWNER},
}


def role_in(review: Review | int, user) -> str | None:
    review_id = review.pk if isinstance(review, Review) else review
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Membership.objects.filter(review_id=review_id, user=user)
        .values_list("role", flat=True)
        .first()
    )


def can(user, review: Review | int, action: Action, *, role: str | None = None) -> bool:
    role = role if role is not None else role_in(review, user)
    return role is not None and role in ALLOWED[action]


def check(user, review: Review | int, action: Action) -> str:
    """Raise Http404 for non-members and PermissionDenied for a role that lacks the action.
    Returns the member's role."""
    role = role_in(review, user)
    if role is None:
        raise Http404("No such review.")
    if role not in ALLOWED[action]:
        raise PermissionDenied(f"Your role ({role}) cannot {action.value.replace('_', ' ')}.")
    return role


def get_review(user, review_id, action: Action = Action.VIEW) -> Review:
    """Fetch a review the user may act on, or 404/403. Attaches `user_role`."""
    try:
        review = Review.objects.for_user(user).get(pk=review_id)
    except (Review.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such review.") from exc
    role = check(user, review, action)
    review.user_role = role
    return review
