"""Writes to the codebook, excerpts, CMOCs and their evidence used by the REST API.

Minimal versions of what the coding pages need as well; keyword-only, atomic,
permission-checked and audited like every other service.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from cmoc.models import CMOC, CMOCElement, CMOCEvidence, Concept, Direction, Excerpt, Role
from studies.models import Document
from synthesis.audit import event_record
from synthesis.models import Review
from synthesis.permissions import Action, check

CMOC_FIELDS = {
    "code", "phase", "statement", "context", "mechanism_resource", "mechanism_reasoning",
    "outcome", "origin", "relation", "prior", "confidence", "confidence_note", "theme", "tags",
}  # fmt: skip
CONCEPT_FIELDS = {"label", "parent", "description", "synonyms", "mechanism_type", "source"}


def _same_review(review: Review, obj, what: str) -> None:
    if obj is not None and obj.review_id != review.pk:
        raise ValidationError({what: f"That {what} belongs to another review."})


@transaction.atomic
def concept_create(
    *,
    user,
    review: Review,
    label: str,
    parent: Concept | None = None,
    description: str = "",
    synonyms: list[str] | None = None,
    mechanism_type: str = "",
    source: str = "",
) -> Concept:
    check(user, review, Action.EDIT_EVIDENCE)
    label = label.strip()
    if not label:
        raise ValidationError({"label": "A concept needs a label."})
    _same_review(review, parent, "parent")
    if Concept.objects.filter(review=review, label__iexact=label).exists():
        raise ValidationError({"label": f"The codebook already has “{label}”."})
    concept = Concept.objects.create(
        review=review, label=label, parent=parent, description=description,
        synonyms=synonyms or [], mechanism_type=mechanism_type, source=source,
    )  # fmt: skip
    event_record(review=review, actor=user, verb="concept.create", target=concept, summary=label)
    return concept


@transaction.atomic
def concept_update(*, user, concept: Concept, **fields) -> Concept:
    check(user, concept.review_id, Action.EDIT_EVIDENCE)
    unknown = set(fields) - CONCEPT_FIELDS
    if unknown:
        raise ValueError(f"Unknown concept fields: {', '.join(sorted(unknown))}")
    if "parent" in fields:
        parent = fields["parent"]
        if parent is not None:
            if parent.review_id != concept.review_id:
                raise ValidationError({"parent": "That parent belongs to another review."})
            node, seen = parent, set()
            while node is not None and node.pk not in seen:  # refuse cycles in the tree
                if node.pk == concept.pk:
                    raise ValidationError({"parent": "A concept cannot sit under itself."})
                seen.add(node.pk)
                node = node.parent
    if "label" in fields:
        fields["label"] = fields["label"].strip()
        clash = Concept.objects.filter(
            review_id=concept.review_id, label__iexact=fields["label"]
        ).exclude(pk=concept.pk)
        if not fields["label"] or clash.exists():
            raise ValidationError({"label": "Labels must be non-empty and unique in the codebook."})
    old = {k: str(getattr(concept, k)) for k in fields}
    for k, v in fields.items():
        setattr(concept, k, v)
    concept.save()
    event_record(
        review=concept.review_id, actor=user, verb="concept.update", target=concept,
        summary=concept.label, data={"old": old, "new": {k: str(v) for k, v in fields.items()}},
    )  # fmt: skip
    return concept


@transaction.atomic
def excerpt_create(
    *,
    user,
    document: Document,
    start: int,
    end: int,
    text: str = "",
    page: int | None = None,
    note: str = "",
) -> Excerpt:
    """Code a passage. Without `text` the passage is cut from the document's extracted text;
    without `page` the page comes from the document's page map."""
    check(user, document.review_id, Action.EDIT_EVIDENCE)
    if start < 0 or end <= start:
        raise ValidationError({"end": "An excerpt must end after it starts."})
    if document.text and end > len(document.text):
        raise ValidationError({"end": "The excerpt runs past the end of the document."})
    if not text:
        text = document.text[start:end]
    if not text.strip():
        raise ValidationError({"text": "An excerpt needs some text."})
    if page is None:
        page = document.page_at(start)
    excerpt = Excerpt.objects.create(
        review_id=document.review_id, document=document, text=text, page=page,
        start=start, end=end, note=note, coder=user,
    )  # fmt: skip
    event_record(
        review=document.review_id, actor=user, verb="excerpt.create", target=excerpt,
        summary=text[:120],
    )  # fmt: skip
    return excerpt


def _elements_set(cmoc: CMOC, elements: Iterable[dict]) -> None:
    """Replace a CMOC's elements by (role, concept, direction) triples."""
    rows, seen = [], set()
    for el in elements:
        role, concept = el["role"], el["concept"]
        direction = el.get("direction", "") or ""
        if role not in Role.values:
            raise ValidationError({"elements": f"Unknown role: {role}"})
        if direction not in Direction.values:
            raise ValidationError({"elements": f"Unknown direction: {direction}"})
        if concept.review_id != cmoc.review_id:
            raise ValidationError({"elements": f"Concept {concept.pk} belongs to another review."})
        if (role, concept.pk) in seen:
            raise ValidationError({"elements": f"{concept} appears twice as {role}."})
        seen.add((role, concept.pk))
        rows.append(CMOCElement(cmoc=cmoc, role=role, concept=concept, direction=direction))
    CMOCElement.objects.filter(cmoc=cmoc).delete()
    CMOCElement.objects.bulk_create(rows)


def _validate_cmoc_fields(review_id: int, fields: dict, cmoc: CMOC | None = None) -> None:
    unknown = set(fields) - CMOC_FIELDS
    if unknown:
        raise ValueError(f"Unknown CMOC fields: {', '.join(sorted(unknown))}")
    for fk in ("phase", "prior"):
        obj = fields.get(fk)
        if obj is not None and obj.review_id != review_id:
            raise ValidationError({fk: f"That {fk} belongs to another review."})
    if cmoc is not None and fields.get("prior") is not None and fields["prior"].pk == cmoc.pk:
        raise ValidationError({"prior": "A CMOC cannot be its own prior."})
    if "code" in fields:
        code = (fields["code"] or "").strip()
        if not code:
            raise ValidationError({"code": "A CMOC needs a code."})
        clash = CMOC.objects.filter(review_id=review_id, code=code)
        if cmoc is not None:
            clash = clash.exclude(pk=cmoc.pk)
        if clash.exists():
            raise ValidationError({"code": f"Code {code} is already used in this review."})
        fields["code"] = code
    if "statement" in fields and not (fields["statement"] or "").strip():
        raise ValidationError({"statement": "A CMOC needs a statement."})
    if fields.get("relation", "") not in CMOC.Relation.values:
        raise ValidationError({"relation": "Unknown relation to prior theory."})
    if "origin" in fields and fields["origin"] not in CMOC.Origin.values:
        raise ValidationError({"origin": "Unknown origin."})


@transaction.atomic
def cmoc_create(
    *, user, review: Review, code: str, statement: str, elements: Iterable[dict] = (), **fields
) -> CMOC:
    check(user, review, Action.EDIT_EVIDENCE)
    fields = {"code": code, "statement": statement, **fields}
    _validate_cmoc_fields(review.pk, fields)
    cmoc = CMOC.objects.create(review=review, created_by=user, **fields)
    _elements_set(cmoc, elements)
    event_record(review=review, actor=user, verb="cmoc.create", target=cmoc, summary=cmoc.code)
    return cmoc


@transaction.atomic
def cmoc_update(*, user, cmoc: CMOC, elements: Iterable[dict] | None = None, **fields) -> CMOC:
    check(user, cmoc.review_id, Action.EDIT_EVIDENCE)
    _validate_cmoc_fields(cmoc.review_id, fields, cmoc)
    old = {k: str(getattr(cmoc, k)) for k in fields}
    for k, v in fields.items():
        setattr(cmoc, k, v)
    cmoc.save()
    if elements is not None:
        _elements_set(cmoc, elements)
    event_record(
        review=cmoc.review_id, actor=user, verb="cmoc.update", target=cmoc, summary=cmoc.code,
        data={"old": old, "new": {k: str(v) for k, v in fields.items()}},
    )  # fmt: skip
    return cmoc


def cmoc_source_count_refresh(cmoc: CMOC) -> int:
    """Recount distinct sources (studies, or documents without a study) among supporting
    excerpts; the seed's rigour rule needs two or more."""
    rows = CMOCEvidence.objects.filter(cmoc=cmoc, stance=CMOCEvidence.Stance.SUPPORTS).values_list(
        "excerpt__document__study_id", "excerpt__document_id"
    )
    n = len({("s", s) if s else ("d", d) for s, d in rows})
    CMOC.objects.filter(pk=cmoc.pk).update(source_count=n)
    cmoc.source_count = n
    return n


@transaction.atomic
def cmoc_evidence_add(
    *, user, cmoc: CMOC, excerpt: Excerpt, stance: str = "supports", note: str = ""
) -> CMOCEvidence:
    check(user, cmoc.review_id, Action.EDIT_EVIDENCE)
    if excerpt.review_id != cmoc.review_id:
        raise ValidationError({"excerpt": "That excerpt belongs to another review."})
    if stance not in CMOCEvidence.Stance.values:
        raise ValidationError({"stance": "Stance is supports or contradicts."})
    if CMOCEvidence.objects.filter(cmoc=cmoc, excerpt=excerpt).exists():
        raise ValidationError({"excerpt": "That excerpt is already evidence for this CMOC."})
    evidence = CMOCEvidence.objects.create(
        cmoc=cmoc, excerpt=excerpt, stance=stance, note=note, added_by=user
    )
    cmoc_source_count_refresh(cmoc)
    event_record(
        review=cmoc.review_id, actor=user, verb="cmoc.evidence_add", target=cmoc,
        summary=f"{cmoc.code} ← excerpt {excerpt.pk} ({stance})",
    )  # fmt: skip
    return evidence


@transaction.atomic
def cmoc_evidence_remove(*, user, evidence: CMOCEvidence) -> None:
    cmoc = evidence.cmoc
    check(user, cmoc.review_id, Action.EDIT_EVIDENCE)
    excerpt_id = evidence.excerpt_id
    evidence.delete()
    cmoc_source_count_refresh(cmoc)
    event_record(
        review=cmoc.review_id, actor=user, verb="cmoc.evidence_remove", target=cmoc,
        summary=f"{cmoc.code} − excerpt {excerpt_id}",
    )  # fmt: skip
