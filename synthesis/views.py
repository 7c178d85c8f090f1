from django.db.models import Count, Q
from django.shortcuts import render

from cmoc.models import CMOC
from studies.models import Record, ScreeningDecision, ScreeningStage, Study
from synthesis.models import Membership, Review
from synthesis.selectors_activity import events_visible_to
from synthesis.views_activity import rows_for
from synthesis.views_base import review_view


def review_list(request, start_form=None):
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("review")
        .annotate(
            n_studies=Count("review__studies", distinct=True),
            n_cmocs=Count("review__cmocs", distinct=True),
        )
        .order_by("review__title")
    )
    from synthesis.views_settings import ReviewStartForm

    return render(
        request,
        "synthesis/review_list.html",
        {"memberships": memberships, "start_form": start_form or ReviewStartForm()},
    )


@review_view()
def review_dashboard(request, review: Review):
    records = Record.objects.filter(review=review)
    record_counts = records.aggregate(
        total=Count("id"), unique=Count("id", filter=Q(duplicate_of__isnull=True))
    )
    stages = list(
        ScreeningStage.objects.filter(review=review).annotate(
            n_decided=Count("decisions__record", distinct=True),
            n_include=Count("decisions", filter=Q(decisions__decision="include")),
            n_exclude=Count("decisions", filter=Q(decisions__decision="exclude")),
            n_maybe=Count("decisions", filter=Q(decisions__decision="maybe")),
        )
    )
    cmocs = CMOC.objects.filter(review=review)
    by_phase = (
        cmocs.values("phase__name", "phase__order").annotate(n=Count("id")).order_by("phase__order")
    )
    by_relation = cmocs.values("relation").annotate(n=Count("id")).order_by("-n")
    relation_labels = dict(CMOC.Relation.choices)
    context = {
        "review": review,
        "record_counts": record_counts,
        "stages": stages,
        "n_studies": Study.objects.filter(review=review).count(),
        "n_cmocs": cmocs.count(),
        "n_supported": cmocs.filter(source_count__gte=2).count(),
        "by_phase": by_phase,
        "by_relation": [
            {"label": relation_labels.get(r["relation"], r["relation"]), "n": r["n"]}
            for r in by_relation
        ],
        # the blind-screening rule for events lives in the selector (shared with the
        # activity page and its export)
        "events": rows_for(
            review,
            events_visible_to(request.user, review)
            .select_related("actor")
            .order_by("-created_at", "-id")[:15],
        ),
        "n_my_decisions": ScreeningDecision.objects.filter(
            stage__review=review, reviewer=request.user
        ).count(),
    }
    return render(request, "synthesis/dashboard.html", context)
