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
