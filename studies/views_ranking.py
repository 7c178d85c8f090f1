"""Screening prioritisation pages: the prioritised queue with scores and terms, the ranking
status and stopping-guidance panel, retrain now, and the owner's exclude-remaining action."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from studies.models import ScreeningStage
from studies.services import ranking as svc
from synthesis.models import Review
from synthesis.permissions import Action, can
from synthesis.views_base import review_view


def _stage(review: Review, stage_id: int) -> ScreeningStage:
    try:
        stage = ScreeningStage.objects.get(review=review, pk=stage_id)
    except ScreeningStage.DoesNotExist as exc:
        raise Http404("No such screening stage.") from exc
    stage.review = review  # keep the role attached by review_view
    return stage


def _panel(request, review: Review, stage: ScreeningStage) -> dict:
    ctx = svc.ranking_panel_context(stage)
    role = getattr(review, "user_role", None)
    ctx["can_train"] = can(request.user, review, Action.SCREEN, role=role)
    ctx["can_manage"] = can(request.user, review, Action.MANAGE, role=role)
    return ctx


@review_view()
def ranking_stage(request, review: Review, stage_id: int):
    stage = _stage(review, stage_id)
    page = Paginator(svc.ranking_queue(stage), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "studies/ranking/stage.html",
        {"review": review, "stage": stage, "page": page, "ranking": _panel(request, review, stage)},
    )


@review_view()
def ranking_panel(request, review: Review, stage_id: int):
    """The panel alone, for htmx refreshes while a retrain runs."""
    stage = _stage(review, stage_id)
    return render(
        request,
        "studies/ranking/_panel.html",
        {"review": review, "stage": stage, "ranking": _panel(request, review, stage)},
    )


@require_POST
@review_view(Action.SCREEN)
def ranking_retrain(request, review: Review, stage_id: int):
    stage = _stage(review, stage_id)
    job = svc.ranking_request(user=request.user, stage=stage)
    if request.headers.get("HX-Request"):
        return ranking_panel(request, review.pk, stage_id)
    if job is None:
        messages.warning(request, "Ranking needs at least one include and one exclude.")
    else:
        messages.success(request, "Retraining in the background; the order updates when done.")
    return redirect("ranking-stage", review.pk, stage.pk)


@review_view(Action.MANAGE)
def ranking_exclude_remaining(request, review: Review, stage_id: int):
    stage = _stage(review, stage_id)
    ctx = _panel(request, review, stage)
    error = ""
    if request.method == "POST":
        if request.POST.get("confirm") == "exclude":
            n = svc.ranking_exclude_remaining(user=request.user, stage=stage)
            messages.success(
                request, f"{n} unscreened records excluded and marked as excluded by automation."
            )
            return redirect("ranking-stage", review.pk, stage.pk)
        error = "Tick the confirmation box to exclude the remaining records."
    return render(
        request,
        "studies/ranking/exclude_remaining.html",
        {"review": review, "stage": stage, "ranking": ctx, "error": error},
        status=400 if error else 200,
    )
