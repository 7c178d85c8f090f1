"""The activity page (the review's audit trail), its CSV export, and the rows that the
per-object "History" lists share with it."""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.db.models import TextField
from django.db.models.functions import Cast
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from synthesis import activity
from synthesis.audit import event_record
from synthesis.exports import CHUNK
from synthesis.models import Membership, Review, ReviewEvent
from synthesis.permissions import Action
from synthesis.selectors_activity import (
    HISTORY_LIMIT,
    ActivityFilters,
    activity_page,
    events_filter,
    events_visible_to,
    object_history,
)
from synthesis.views_base import review_view

BIGINT = 2**63 - 1
# Dates a person might mean; outside them make_aware/UTC conversion can overflow.
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2999, 12, 31)


class ActivityFilterForm(forms.Form):
    actor = forms.ChoiceField(required=False, label="Member")
    area = forms.ChoiceField(
        required=False,
        label="Area",
        choices=[("", "All areas"), *((k, label) for k, (label, _p) in activity.AREAS.items())],
    )
    since = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))
    q = forms.CharField(required=False, max_length=200, label="Summary contains")
    target_type = forms.RegexField(
        regex=r"^[a-z_]{1,60}$", required=False, widget=forms.HiddenInput
    )
    target_id = forms.IntegerField(
        required=False, min_value=1, max_value=BIGINT, widget=forms.HiddenInput
    )
    before = forms.IntegerField(required=False, min_value=1, max_value=BIGINT)
    after = forms.IntegerField(required=False, min_value=1, max_value=BIGINT)

    def __init__(self, data, *, members):
        super().__init__(data)
        self.fields["actor"].choices = [
            ("", "Anyone"),
            *((str(m.user_id), m.user.get_full_name() or m.user.username) for m in members),
            ("system", "System (no member)"),
        ]

    def _clean_day(self, name):
        day = self.cleaned_data.get(name)
        if day is not None and not EARLIEST <= day <= LATEST:
            raise forms.ValidationError(f"Pick a date between {EARLIEST.year} and {LATEST.year}.")
        return day

    def clean_since(self):
        return self._clean_day("since")

    def clean_until(self):
        return self._clean_day("until")

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        return data

    def filters(self) -> ActivityFilters:
        """The valid filters; a field with an error is left out (and shown as an error)."""
        self.is_valid()
        c = self.cleaned_data
        actor = c.get("actor") or ""
        return ActivityFilters(
            actor=int(actor) if actor.isdigit() else None,
            system=actor == "system",
            area=c.get("area") or "",
            target_type=c.get("target_type") or "",
            target_id=c.get("target_id"),
            since=c.get("since"),
            until=c.get("until"),
            q=(c.get("q") or "").strip(),
        )


# Pages that show one kind of target: (URL name, "id" to pass the target id, or a data key).
TARGET_PAGES = {
    "cmoc": ("cmoc-detail", "id"),
    "study": ("study-detail", "id"),
    "importbatch": ("identification-batch", "id"),
    "document": ("coding-reader", "id"),
    "demiregularity": ("coding-demi-regularity", "id"),
    "theoryversion": ("theory-version-detail", "number"),
}
# Lists on which the target has a row of its own (or its own query string).
TARGET_LISTS = {
    "search": ("identification-searches", "#search-{id}"),
    "concept": ("codebook", "?concept={id}"),
    "duplicatecandidate": ("identification-duplicates", ""),
    "middlerangetheory": ("coding-theory-links", ""),
    "cmoclink": ("theory-links", ""),
    "participant": ("coding-participants", ""),
    "extractionform": ("extraction-forms", ""),
}
GONE = (".delete", ".remove")  # the target no longer exists


def target_url(review_id: int, event: ReviewEvent) -> str:
    if event.target_id is None or event.verb.endswith(GONE):
        return ""
    try:
        if event.target_type in TARGET_PAGES:
            name, arg = TARGET_PAGES[event.target_type]
            value = event.target_id if arg == "id" else (event.data or {}).get(arg)
            if value is None:
                return ""
            return reverse(name, args=[review_id, value])
        if event.target_type in TARGET_LISTS:
            name, suffix = TARGET_LISTS[event.target_type]
            return reverse(name, args=[review_id]) + suffix.format(id=event.target_id)
    except (NoReverseMatch, TypeError, ValueError):
        return ""
    return ""


def _who(event: ReviewEvent) -> str:
    if event.actor is None:
        return "System"
    return event.actor.get_full_name() or event.actor.username


@dataclass
class Row:
    event: ReviewEvent
    who: str
    what: str
    area: str
    target: str
    url: str
    details: activity.Details


AREA_LABELS = {k: label for k, (label, _p) in activity.AREAS.items()}


def rows_for(review: Review, events) -> list[Row]:
    areas = AREA_LABELS
    return [
        Row(
            event=e,
            who=_who(e),
            what=activity.verb_label(e.verb),
            area=areas.get(activity.area_of(e.verb), ""),
            target=(
                f"{activity.target_label(e.target_type)} {e.target_id}"
                if e.target_type and e.target_id is not None
                else ""
            ),
            url=target_url(review.pk, e),
            details=activity.details(e.data),
        )
        for e in events
    ]


def history_for(user, review: Review, target) -> dict:
    """What templates/synthesis/_history.html needs for one object (one query)."""
    target_type = target._meta.model_name
    events = object_history(user, review, target_type=target_type, target_id=target.pk)
    query = urlencode({"target_type": target_type, "target_id": target.pk})
    return {
        "rows": rows_for(review, events[:HISTORY_LIMIT]),
        "more": len(events) > HISTORY_LIMIT,
        "url": f"{reverse('activity', args=[review.pk])}?{query}",
    }


def _form_and_events(request, review: Review):
    members = (
        Membership.objects.filter(review=review).select_related("user").order_by("user__username")
    )
    form = ActivityFilterForm(request.GET, members=members)
    filters = form.filters()
    qs = events_filter(events_visible_to(request.user, review), filters)
    return form, filters, qs


def _query(request, **changes) -> str:
    params = request.GET.copy()
    for key in ("before", "after"):
        params.pop(key, None)
    for key, value in changes.items():
        params[key] = value
    return params.urlencode()


@review_view()
def activity_list(request, review: Review):
    form, filters, qs = _form_and_events(request, review)
    page = activity_page(
        qs,
        review=review,
        before=form.cleaned_data.get("before"),
        after=form.cleaned_data.get("after"),
    )
    target = ""
    if filters.target_type:
        target = activity.target_label(filters.target_type)
        if filters.target_id is not None:
            target += f" {filters.target_id}"
    return render(
        request,
        "synthesis/activity.html",
        {
            "review": review,
            "form": form,
            "page": page,
            "rows": rows_for(review, page.events),
            "target": target,
            "older_query": _query(request, before=page.older) if page.older else "",
            "newer_query": _query(request, after=page.newer) if page.newer else "",
            "first_query": _query(request),
            "export_query": _query(request),
            "clear_target_query": _query(request, target_type="", target_id=""),
            "can_export": review.user_role in ("owner", "reviewer", "analyst"),
        },
    )


class _Echo:
    def write(self, value):
        return value


CSV_HEADER = [
    "When (UTC)", "Who", "Username", "Area", "What", "Verb", "Target type", "Target id",
    "Summary", "Changes", "Data (JSON)",
]  # fmt: skip


def _csv_lines(review: Review, qs):
    """Plain rows, not model instances, and `data` as the stored JSON text (parsed once for
    the "Changes" column, never dumped again): 155k events streamed in about half the time
    (bench/activity.py)."""
    writer = csv.writer(_Echo())
    areas = {v: AREA_LABELS.get(activity.area_of(v), "") for v in activity.VERB_LABELS}
    yield "\ufeff" + writer.writerow(CSV_HEADER)
    rows = (
        qs.order_by("-created_at", "-id")
        .annotate(data_text=Cast("data", TextField()))
        .values_list(
            "created_at",
            "actor__username",
            "actor__first_name",
            "actor__last_name",
            "verb",
            "target_type",
            "target_id",
            "summary",
            "data_text",
        )  # fmt: skip
    )
    for at, username, first, last, verb, target_type, target_id, summary, data in rows.iterator(
        CHUNK
    ):
        try:
            parsed = json.loads(data) if data else {}
        except ValueError:
            parsed = {}
        d = activity.details(parsed)
        who = (f"{first} {last}".strip() or username) if username else "System"
        if verb not in areas:
            areas[verb] = AREA_LABELS.get(activity.area_of(verb), "")
        yield writer.writerow([
            timezone.localtime(at, dt.UTC).isoformat(timespec="seconds"), who, username or "",
            areas[verb], activity.verb_label(verb), verb, target_type,
            "" if target_id is None else target_id, summary,
            "; ".join(f"{c.field}: {c.old} → {c.new}" for c in d.changes), data or "{}",
        ])  # fmt: skip


@review_view(Action.EXPORT)
def activity_csv(request, review: Review):
    """The filtered activity, streamed (the same events the page shows, every page)."""
    _form, _filters, qs = _form_and_events(request, review)
    event_record(review=review, actor=request.user, verb="export.download", summary="activity.csv")
    response = StreamingHttpResponse(_csv_lines(review, qs), content_type="text/csv")
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = (
        f'attachment; filename="activity-review-{review.pk}-{stamp}.csv"'
    )
    return response
