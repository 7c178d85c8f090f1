"""Reads of the audit trail. Every page and export that shows review events starts from
`events_visible_to`, the one place where blind screening is applied to events.

Pages are keyset-paginated (older than / newer than an event), never OFFSET, so the
10,000th page costs what the first does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from synthesis.activity import area_verbs
from synthesis.models import Review, ReviewEvent

# The events that name a record and a reviewer's vote on it (summary "exclude record 12 at
# Title and abstract", data old/new vote). A resolution is not among them: it needs both
# votes first, so it reveals nothing the resolver's conflict page does not.
SCREENING_VOTE_VERBS = ("screening.decide", "screening.change", "screening.undo")

COUNT_CAP = 1_000  # "1000+ events": counting every match would cost a scan per request
PER_PAGE = 50


def events_visible_to(user, review: Review) -> QuerySet[ReviewEvent]:
    """The review's events a member may see. Under blind screening another reviewer's vote
    events stay hidden (own votes are shown) for as long as the review is blind: they
    would show a vote before both reviewers decided. Votes of finished records can be read on
    the screening pages and in the decisions export (studies.selectors_screening)."""
    qs = ReviewEvent.objects.filter(review=review)
    if review.blind_screening:
        qs = qs.exclude(
            Q(verb__in=SCREENING_VOTE_VERBS) & (Q(actor__isnull=True) | ~Q(actor_id=user.pk))
        )
    return qs


@dataclass(frozen=True)
class ActivityFilters:
    actor: int | None = None
    system: bool = False  # events without an actor (automation, the demo loader)
    area: str = ""
    target_type: str = ""
    target_id: int | None = None
    since: dt.date | None = None
    until: dt.date | None = None  # inclusive
    q: str = ""


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def events_filter(qs: QuerySet[ReviewEvent], f: ActivityFilters) -> QuerySet[ReviewEvent]:
    if f.system:
        qs = qs.filter(actor__isnull=True)
    elif f.actor is not None:
        qs = qs.filter(actor_id=f.actor)
    if f.area:
        qs = qs.filter(verb__in=area_verbs(f.area))
    if f.target_type:
        qs = qs.filter(target_type=f.target_type)
        if f.target_id is not None:
            qs = qs.filter(target_id=f.target_id)
    if f.since:
        qs = qs.filter(created_at__gte=_day_start(f.since))
    if f.until:
        qs = qs.filter(created_at__lt=_day_start(f.until + dt.timedelta(days=1)))
    if f.q:
        qs = qs.filter(summary__icontains=f.q)
    return qs


@dataclass
class ActivityPage:
    events: list[ReviewEvent]
    older: int | None  # cursor (event id) of the next older page
    newer: int | None  # cursor of the next newer page
    total: int
    capped: bool

    @property
    def is_first(self) -> bool:
        return self.newer is None


def _cursor(review: Review, event_id: int | None) -> tuple[dt.datetime, int] | None:
    if event_id is None:
        return None
    at = ReviewEvent.objects.filter(review=review, pk=event_id).values_list("created_at", flat=True)
    at = at.first()
    return (at, event_id) if at is not None else None


def activity_page(
    qs: QuerySet[ReviewEvent],
    *,
    review: Review,
    before: int | None = None,
    after: int | None = None,
    per_page: int = PER_PAGE,
) -> ActivityPage:
    """One page of events, newest first: the first page, the page older than event `before`
    or the page newer than event `after`. Ties on created_at are broken by id."""
    qs_all = qs
    qs = qs.select_related("actor")
    older_than, newer_than = _cursor(review, before), _cursor(review, after)
    if newer_than is not None:
        at, pk = newer_than
        # the redundant `gte` bounds the index range; the OR only breaks ties
        rows = list(
            qs.filter(
                Q(created_at__gt=at) | Q(created_at=at, pk__gt=pk), created_at__gte=at
            ).order_by("created_at", "id")[: per_page + 1]
        )
        events = rows[:per_page][::-1]
        older = events[-1].pk if events else None
        newer = events[0].pk if events and len(rows) > per_page else None
    else:
        if older_than is not None:
            at, pk = older_than
            qs = qs.filter(Q(created_at__lt=at) | Q(created_at=at, pk__lt=pk), created_at__lte=at)
        rows = list(qs.order_by("-created_at", "-id")[: per_page + 1])
        events = rows[:per_page]
        older = events[-1].pk if len(rows) > per_page else None
        newer = events[0].pk if older_than is not None and events else None
    if older_than is None and newer_than is None and len(rows) <= per_page:
        # a first page that is not full holds every match: no count needed (a rare filter
        # would otherwise scan the review's events twice)
        return ActivityPage(events, older, newer, total=len(rows), capped=False)
    # unordered: any 1001 matches will do, so the planner may use the (review, verb) index
    n = qs_all.order_by()[: COUNT_CAP + 1].count()
    return ActivityPage(events, older, newer, total=min(n, COUNT_CAP), capped=n > COUNT_CAP)


HISTORY_LIMIT = 8


def object_history(
    user, review: Review, *, target_type: str, target_id: int, limit: int = HISTORY_LIMIT
) -> list[ReviewEvent]:
    """The newest events of one object (limit + 1 rows, so a caller can tell there are
    more), with their actors, in one query."""
    return list(
        events_visible_to(user, review)
        .filter(target_type=target_type, target_id=target_id)
        .select_related("actor")
        .order_by("-created_at", "-id")[: limit + 1]
    )
