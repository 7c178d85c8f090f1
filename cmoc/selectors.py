"""Reads for realist analysis, always scoped to one review."""

from django.db.models import Count, Prefetch, Q, QuerySet

from cmoc.models import CMOC, CMOCComment, CMOCElement, CMOCEvidence, Concept, Excerpt
from cmoc.search import cmoc_text_filter
from studies.models import Document, Participant
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
    supported: bool | None = None,
    origin: str = "",
    sort: str = "code",
) -> QuerySet[CMOC]:
    qs = CMOC.objects.filter(review=review).select_related("phase").defer("search_text")
    if q:
        qs = cmoc_text_filter(qs, q)
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
    if supported is True:  # the seed's rigour rule: clear data from two or more sources
        qs = qs.filter(source_count__gte=2)
    elif supported is False:
        qs = qs.filter(source_count__lt=2)
    if origin:
        qs = qs.filter(origin=origin)
    if study:
        qs = qs.filter(
            pk__in=CMOCEvidence.objects.filter(excerpt__document__study_id=study).values("cmoc_id")
        )
    return qs.prefetch_related(
        Prefetch(
            "elements",
            queryset=CMOCElement.objects.select_related("concept").order_by("role", "id"),
        )
    ).order_by(*CMOC_SORTS.get(sort, CMOC_SORTS["code"]))


CMOC_SORTS = {
    "code": ("code",),
    "-updated": ("-updated_at", "code"),
    "-sources": ("-source_count", "code"),
    "sources": ("source_count", "code"),
    "phase": ("phase__order", "code"),
}
CMOC_SORT_LABELS = [
    ("code", "Code"),
    ("-updated", "Recently edited"),
    ("-sources", "Most sources"),
    ("sources", "Fewest sources"),
    ("phase", "Phase"),
]


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
            Prefetch("comments", queryset=CMOCComment.objects.select_related("author")),
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


def document_list(*, review: Review) -> QuerySet[Document]:
    return (
        Document.objects.filter(review=review)
        .select_related("study", "participant")
        .defer("text", "page_map")
        .annotate(n_excerpts=Count("excerpts"))
        .order_by("kind", "title")
    )


def document_for_reader(*, review: Review, document_id: int) -> Document:
    return (
        Document.objects.filter(review=review)
        .select_related("study", "participant")
        .get(pk=document_id)
    )


def document_excerpts(*, document: Document) -> list[Excerpt]:
    """A document's excerpts with the CMOCs each supports or contradicts (2 queries)."""
    return list(
        Excerpt.objects.filter(document=document)
        .select_related("coder")
        .prefetch_related(
            Prefetch(
                "evidence",
                queryset=CMOCEvidence.objects.select_related("cmoc").only(
                    "id",
                    "stance",
                    "excerpt_id",
                    "cmoc__id",
                    "cmoc__code",
                    "cmoc__statement",
                    "cmoc__source_count",
                ),
            )
        )
        .order_by("start", "end")
    )


def cmoc_search(*, review: Review, q: str, limit: int = 12) -> list[CMOC]:
    """CMOCs to attach an excerpt to: by code first, then by statement text."""
    qs = CMOC.objects.filter(review=review).only("id", "code", "statement", "source_count")
    q = q.strip()
    if not q:
        return list(qs.order_by("-updated_at")[:limit])
    by_code = list(qs.filter(code__istartswith=q).order_by("code")[:limit])
    rest = limit - len(by_code)
    if rest > 0:
        by_code += list(
            cmoc_text_filter(qs, q).exclude(pk__in=[c.pk for c in by_code]).order_by("code")[:rest]
        )
    return by_code


def concept_suggest(*, review: Review, q: str, limit: int = 15) -> list[Concept]:
    """Labels starting with ``q`` first, then labels or synonyms containing it (a coder who
    types a synonym finds the codebook's concept instead of creating a duplicate)."""
    qs = Concept.objects.filter(review=review).only("id", "label", "synonyms")
    q = q.strip()
    if not q:
        return list(qs.order_by("label")[:limit])
    starts = list(qs.filter(label__istartswith=q).order_by("label")[:limit])
    if len(starts) < limit:
        starts += list(
            qs.filter(Q(label__icontains=q) | Q(synonyms__icontains=q))
            .exclude(pk__in=[c.pk for c in starts])
            .order_by("label")[: limit - len(starts)]
        )
    return starts


def participant_list(*, review: Review) -> QuerySet[Participant]:
    return (
        Participant.objects.filter(review=review)
        .annotate(n_documents=Count("documents", distinct=True))
        .order_by("code")
    )


def demi_regularity_evidence(*, demi_regularity) -> QuerySet[CMOCEvidence]:
    """Pooled evidence of the CMOCs grouped in a demi-regularity."""
    return (
        CMOCEvidence.objects.filter(cmoc__demi_regularities=demi_regularity)
        .select_related("excerpt__document__study", "excerpt__document__participant", "cmoc")
        .order_by("stance", "excerpt__document__title", "excerpt__start")
    )
