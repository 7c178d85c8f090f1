from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from studies import selectors
from studies.models import Study
from synthesis.models import Review
from synthesis.permissions import Action, can
from synthesis.views_base import review_view


@review_view()
def study_list(request, review: Review):
    qs = selectors.study_list(
        review=review, q=request.GET.get("q", "").strip(), kind=request.GET.get("kind", "")
    )
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "studies/study_list.html",
        {
            "review": review,
            "page": page,
            "kinds": Study.Kind.choices,
            "total": page.paginator.count,
        },
    )


@review_view()
def study_detail(request, review: Review, study_id: int):
    try:
        study = selectors.study_detail(review=review, study_id=study_id)
    except Study.DoesNotExist as exc:
        raise Http404 from exc
    answers = sorted(study.answers.all(), key=lambda a: (a.field.order, a.field_id))
    can_export = can(request.user, review, Action.EXPORT, role=review.user_role)
    return render(
        request,
        "studies/study_detail.html",
        # documents open in the coding reader, where the coder highlights and codes them
        {"review": review, "study": study, "answers": answers, "can_export": can_export,
         "document_url_name": "coding-reader"},
    )  # fmt: skip
