"""Reads for realist analysis, always scoped to one review."""

from django.db.models import Count, Prefetch, Q, QuerySet

from cmoc.models import CMOC, CMOCElement, CMOCEvidence, Concept
from synthesis.models import Review


def cmoc_list(
    *,
    review: Review,
    q: str = "",
    phase: str | int | None = None,
    concept: str | int | None = None,
    role: str = "",
    relation: str = "",
    min_sources: int | None = None,
    checked: bool | None = None,
    study: str | int | None = None,
) -> QuerySet[CMOC]:
    qs = CMOC.objects.filter(review=review).select_related("phase")
    if q:
        qs = qs.filter(
            Q(code__icontains=q)
            | Q(statement__icontains=q)
            | Q(context__icontains=q)
            | Q(mechanism_resource__icontains=q)
            | Q(mechanism_reasoning__icontains=q)
            | Q(outcome__icontains=q)
        )
    if phase:
        qs = qs.filter(phase_id=phase)
    if concept:
        element_filter = Q(elements__concept_id=concept)
        if role:
            element_filter &= Q(elements__role=role)
        qs = qs.filter(pk__in=CMOC.objects.filter(element_filter).values("pk"))
    if relation:
        qs = qs.filter(relation=relation)
    if min_sources is not None:
        qs = qs.filter(source_count__gte=min_sources)
    if checked is not None:
        qs = qs.filter(checked=checked)
    if study:
        qs = qs.filter(
            pk__in=CMOCEvidence.objects.filter(excerpt__document__study_id=study).values("cmoc_id")
        )
    return qs.prefetch_related(
        Prefetch(
            "elements",
            queryset=CMOCElement.objects.select_related("concept").order_by("role", "id"),
        )
    ).order_by("code")


def cmoc_detail(*, review: Review, cmoc_id: int) -> CMOC:
    return (
        CMOC.objects.filter(review=review)
        .select_related("phase", "prior", "created_by", "checked_by")
        .prefetch_related(
            Prefetch("elements", queryset=CMOCElement.objects.select_related("concept")),
            Prefetch(
                "evidence",
                queryset=CMOCEvidence.objects.select_related(
                    "excerpt__document__study", "excerpt__document__participant", "added_by"
                ).order_by("stance", "excerpt__document__title", "excerpt__start"),
            ),
            "middle_range_theories",
            "demi_regularities",
            "successors",
        )
        .get(pk=cmoc_id)
    )


def concept_tree(*, review: Review) -> list[dict]:
    """The codebook as a flat list in tree order, with depth and usage counts per role."""
    concepts = list(
        Concept.objects.filter(review=review).annotate(
            n_context=Count("elements", filter=Q(elements__role="context")),
            n_mechanism=Count("elements", filter=Q(elements__role="mechanism")),
            n_outcome=Count("elements", filter=Q(elements__role="outcome")),
        )
    )
    children: dict[int | None, list[Concept]] = {}
    for c in concepts:
        children.setdefault(c.parent_id, []).append(c)
    for kids in children.values():
        kids.sort(key=lambda c: c.label.lower())
    out: list[dict] = []
    seen: set[int] = set()

    def walk(parent_id, depth):
        for c in children.get(parent_id, []):
            if c.pk in seen:
                continue
            seen.add(c.pk)
            out.append({"concept": c, "depth": depth})
            walk(c.pk, depth + 1)

    walk(None, 0)
    for c in concepts:  # orphans from a parent in a cycle (should not happen) still show
        if c.pk not in seen:
            out.append({"concept": c, "depth": 0})
    return out
