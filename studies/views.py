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


def _characteristics(answers) -> list[tuple]:
    """One entry per field, read as the characteristics table reads it: the consensus answer
    if there is one, else the extractors' common answer, else each answer with its extractor
    (so two extractors' answers do not look like two fields)."""
    by_field: dict[int, list] = {}
    for a in sorted(answers, key=lambda a: (a.field.order, a.field_id, a.extractor_id)):
        by_field.setdefault(a.field_id, []).append(a)
    out = []
    for items in by_field.values():
        chosen = [a for a in items if a.is_consensus] or items
        if len({repr(a.value) for a in chosen}) == 1:
            shown = [(chosen[0].value, None)]
        else:
            shown = [(a.value, a.extractor) for a in chosen]
        out.append((items[0].field, shown))
    return out


@review_view()
def study_detail(request, review: Review, study_id: int):
    try:
        study = selectors.study_detail(review=review, study_id=study_id)
    except Study.DoesNotExist as exc:
        raise Http404 from exc
    answers = _characteristics(study.answers.all())
    can_export = can(request.user, review, Action.EXPORT, role=review.user_role)
    return render(
        request,
        "studies/study_detail.html",
        # documents open in the coding reader, where the coder highlights and codes them
        {"review": review, "study": study, "answers": answers, "can_export": can_export,
         "document_url_name": "coding-reader"},
    )  # fmt: skip
