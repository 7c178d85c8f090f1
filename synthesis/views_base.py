"""Shared helpers for review-scoped views."""

from functools import wraps

from synthesis.permissions import Action, get_review


def review_view(action: Action = Action.VIEW):
    """Resolve `review_id` from the URL for the logged-in user (404 for non-members, 403 for
    a role that lacks `action`) and pass the review to the view."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, review_id, *args, **kwargs):
            review = get_review(request.user, review_id, action)
            request.review = review
            return view(request, review, *args, **kwargs)

        return wrapper

    return decorator


# Database integer columns hold signed 64-bit values. Django refuses a larger one quietly for
# a plain integer lookup, but not through a foreign key (`phase_id=…`), where SQLite raises
# OverflowError: a query string with a 20-digit id was a server error.
_DB_INT_MAX = 2**63 - 1


def int_or_none(value) -> int | None:
    """An integer from a query string or a form field, or None when it is missing, not a
    whole number, or beyond what a database integer column holds."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if -_DB_INT_MAX <= number <= _DB_INT_MAX else None
