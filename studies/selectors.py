"""Reads for identification → extraction, always scoped to a review the user can see."""

from django.db.models import Count, Prefetch, QuerySet

from studies.models import Document, ExtractionAnswer, Record, Study
from synthesis.models import Review


def study_list(*, review: Review, q: str = "", kind: str = "") -> QuerySet[Study]:
    qs = (
        Study.objects.filter(review=review)
        .select_related("phase")
        .annotate(
            n_documents=Count("documents", distinct=True),
            n_excerpts=Count("documents__excerpts", distinct=True),
        )
    )
    if q:
        qs = qs.filter(label__icontains=q) | qs.filter(title__icontains=q)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("label")


def study_detail(*, review: Review, study_id: int) -> Study:
    return (
        Study.objects.filter(review=review)
        .select_related("phase")
        .prefetch_related(
            Prefetch(
                "documents", queryset=Document.objects.only("id", "title", "kind", "study_id")
            ),
            Prefetch("records", queryset=Record.objects.only("id", "title", "doi", "study_id")),
            # each answer with its field and extractor, in one query
            Prefetch(
                "answers", queryset=ExtractionAnswer.objects.select_related("field", "extractor")
            ),
        )
        .get(pk=study_id)
    )
