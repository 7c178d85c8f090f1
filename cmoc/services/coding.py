"""Writes for CMOC coding: excerpts, CMOCs and their concepts, evidence, the codebook,
demi-regularities, middle-range theories, second-coder checks, participants and transcripts.

Every function is keyword-only, atomic, permission-checked (EDIT_EVIDENCE) and audited. Bad
input raises ``django.core.exceptions.ValidationError`` (field-keyed where a form can show it).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cmoc.compose import statement_compose
from cmoc.models import (
    CMOC,
    CMOCComment,
    CMOCElement,
    CMOCEvidence,
    Concept,
    DemiRegularity,
    Direction,
    Excerpt,
    IntervieweeStance,
    MiddleRangeTheory,
    Role,
)
from cmoc.transcripts import TranscriptError, transcript_text
from studies.models import Document, Participant, Study
from synthesis.audit import event_record
from synthesis.concurrency import EditConflict as EditConflict  # re-exported for callers
from synthesis.concurrency import edit_lock, edit_save, last_saved
from synthesis.models import Phase, Review
from synthesis.permissions import Action, check


@dataclass
class ElementSpec:
    """One concept in a role of a CMOC: an existing concept or a label to find/create."""

    role: str
    label: str = ""
    concept: Concept | None = None
    direction: str = ""


def _edit(user, review) -> None:
    check(user, review, Action.EDIT_EVIDENCE)


def _same_review(obj, review: Review, what: str) -> None:
    if obj is not None and obj.review_id != review.pk:
        raise ValidationError(f"That {what} belongs to another review.")


# --- excerpts ---------------------------------------------------------------------------


@transaction.atomic
def excerpt_create(
    *,
    user,
    document: Document,
    start: int,
    end: int,
    text: str | None = None,
    note: str = "",
    interviewee_stance: str = "",
    page: int | None = None,
) -> Excerpt:
    """A passage of ``document.text[start:end]``; its page from the document's page map
    unless given. If the browser sent the selected text it
    must match the stored text at those offsets (catches a stale page or a mangled
    selection), so an excerpt can always be found again where it was coded."""
    review = document.review
    _edit(user, review)
    start, end = _offsets_check(document, start, end)
    stored = document.text[start:end]
    if text is not None and text.strip() and text != stored:
        raise ValidationError(
            {"text": "The selected text does not match the document at those offsets; "
             "reload the page and select again."}
        )  # fmt: skip
    if interviewee_stance not in IntervieweeStance.values:
        raise ValidationError({"interviewee_stance": "Unknown stance."})
    if page is not None and int(page) < 1:
        raise ValidationError({"page": "Pages count from 1."})
    excerpt = Excerpt.objects.create(
        review=review,
        document=document,
        text=stored,
        start=start,
        end=end,
        page=document.page_at(start) if page is None else int(page),
        note=note,
        coder=user,
        interviewee_stance=interviewee_stance,
    )
    event_record(
        review=review, actor=user, verb="excerpt.create", target=excerpt,
        summary=stored[:120], data={"document": document.pk, "start": start, "end": end},
    )  # fmt: skip
    return excerpt


def _offsets_check(document: Document, start, end) -> tuple[int, int]:
    try:
        start, end = int(start), int(end)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"start": "Offsets must be whole numbers."}) from exc
    if start >= 0 and end <= len(document.text) and end < start:
        # both inside the text, in the wrong order: "outside the text" misled
        raise ValidationError(
            {"start": f"The excerpt must end after it starts (starts at {start}, ends at {end})."}
        )
    if not (0 <= start < end <= len(document.text)):
        raise ValidationError(
            {"start": f"Offsets {start}–{end} fall outside the text (0–{len(document.text)})."}
        )
    if not document.text[start:end].strip():
        raise ValidationError({"text": "Select some text, not only white space."})
    return start, end


@transaction.atomic
def excerpt_update(
    *,
    user,
    excerpt: Excerpt,
    note: str | None = None,
    interviewee_stance: str | None = None,
    page: int | None = None,
    start: int | None = None,
    end: int | None = None,
    expected_version: int | None = None,
) -> Excerpt:
    """Edit an excerpt's note, interviewee stance, page or location. New offsets re-cut the
    text from the document (so the quote always matches where it sits) and, unless a page is
    given, re-derive the page from the page map. `expected_version`: the Excerpt.version the
    editor opened; if a co-reviewer has saved it since, EditConflict and nothing changes."""
    _edit(user, excerpt.review)
    edit_lock(
        excerpt, expected_version=expected_version, verbs=("excerpt.update",),
        name=lambda e: f"the excerpt “{e.text[:40]}”",
    )  # fmt: skip
    before = {
        k: getattr(excerpt, k) for k in ("note", "interviewee_stance", "page", "start", "end")
    }
    if interviewee_stance is not None:
        if interviewee_stance not in IntervieweeStance.values:
            raise ValidationError({"interviewee_stance": "Unknown stance."})
        excerpt.interviewee_stance = interviewee_stance
    if note is not None:
        excerpt.note = note.strip()
    if start is not None or end is not None:
        document = excerpt.document
        new_start, new_end = _offsets_check(
            document,
            excerpt.start if start is None else start,
            excerpt.end if end is None else end,
        )
        if (new_start, new_end) != (excerpt.start, excerpt.end):
            excerpt.start, excerpt.end = new_start, new_end
            excerpt.text = document.text[new_start:new_end]
            excerpt.page = document.page_at(new_start)
    if page is not None:
        if int(page) < 1:
            raise ValidationError({"page": "Pages count from 1."})
        excerpt.page = int(page)
    changed = {k: [v, getattr(excerpt, k)] for k, v in before.items() if getattr(excerpt, k) != v}
    if not changed:
        return excerpt
    edit_save(excerpt, [*changed, "text"])
    event_record(
        review=excerpt.review, actor=user, verb="excerpt.update", target=excerpt,
        summary=excerpt.text[:120], data={"changed": changed},
    )  # fmt: skip
    return excerpt


@transaction.atomic
def excerpt_delete(*, user, excerpt: Excerpt) -> None:
    review = excerpt.review
    _edit(user, review)
    cmoc_ids = list(excerpt.evidence.values_list("cmoc_id", flat=True))
    event_record(
        review=review, actor=user, verb="excerpt.delete", target=excerpt,
        summary=excerpt.text[:120], data={"cmocs": cmoc_ids},
    )  # fmt: skip
    excerpt.delete()
    for cmoc in CMOC.objects.filter(pk__in=cmoc_ids):
        source_count_refresh(cmoc=cmoc)


# --- evidence and the rigour rule ---------------------------------------------------------


def source_key(study_id, participant_id, document_id) -> str:
    """What counts as one source: the study; for a transcript without a study, the
    participant; otherwise the document itself."""
    if study_id:
        return f"study:{study_id}"
    if participant_id:
        return f"participant:{participant_id}"
    return f"document:{document_id}"


def source_count_refresh(*, cmoc: CMOC) -> int:
    """Recompute ``CMOC.source_count`` from its supporting excerpts (internal; callers are
    already permission-checked)."""
    rows = CMOCEvidence.objects.filter(cmoc=cmoc, stance=CMOCEvidence.Stance.SUPPORTS).values_list(
        "excerpt__document__study_id", "excerpt__document__participant_id", "excerpt__document_id"
    )
    count = len({source_key(*r) for r in rows})
    if count != cmoc.source_count:
        cmoc.source_count = count
        CMOC.objects.filter(pk=cmoc.pk).update(source_count=count)
    return count


@transaction.atomic
def evidence_add(
    *,
    user,
    cmoc: CMOC,
    excerpt: Excerpt,
    stance: str = "supports",
    note: str = "",
    allow_existing: bool = True,
) -> CMOCEvidence:
    """Link an excerpt to a CMOC. Linking it again updates the stance and note (the reader's
    "attach" button), unless ``allow_existing`` is false (the API's create)."""
    _edit(user, cmoc.review)
    _same_review(excerpt, cmoc.review, "excerpt")
    if stance not in CMOCEvidence.Stance.values:
        raise ValidationError({"stance": "Stance must be supports or contradicts."})
    if not allow_existing and CMOCEvidence.objects.filter(cmoc=cmoc, excerpt=excerpt).exists():
        raise ValidationError({"excerpt": "That excerpt is already evidence for this CMOC."})
    evidence, created = CMOCEvidence.objects.get_or_create(
        cmoc=cmoc, excerpt=excerpt, defaults={"stance": stance, "note": note, "added_by": user}
    )
    if not created and (evidence.stance != stance or (note and evidence.note != note)):
        evidence.stance = stance
        evidence.note = note or evidence.note
        evidence.save(update_fields=["stance", "note"])
    source_count_refresh(cmoc=cmoc)
    event_record(
        review=cmoc.review, actor=user, verb="evidence.add", target=cmoc,
        summary=f"{cmoc.code} ← excerpt {excerpt.pk} ({stance})",
        data={"excerpt": excerpt.pk, "stance": stance},
    )  # fmt: skip
    return evidence


@transaction.atomic
def evidence_remove(*, user, evidence: CMOCEvidence) -> None:
    cmoc = evidence.cmoc
    _edit(user, cmoc.review)
    event_record(
        review=cmoc.review, actor=user, verb="evidence.remove", target=cmoc,
        summary=f"{cmoc.code} − excerpt {evidence.excerpt_id}",
        data={"excerpt": evidence.excerpt_id, "stance": evidence.stance},
    )  # fmt: skip
    evidence.delete()
    source_count_refresh(cmoc=cmoc)


@transaction.atomic
def evidence_set_stance(*, user, evidence: CMOCEvidence, stance: str) -> CMOCEvidence:
    cmoc = evidence.cmoc
    _edit(user, cmoc.review)
    if stance not in CMOCEvidence.Stance.values:
        raise ValidationError({"stance": "Stance must be supports or contradicts."})
    old = evidence.stance
    evidence.stance = stance
    evidence.save(update_fields=["stance"])
    source_count_refresh(cmoc=cmoc)
    event_record(
        review=cmoc.review, actor=user, verb="evidence.stance", target=cmoc,
        data={"excerpt": evidence.excerpt_id, "old": old, "new": stance},
    )  # fmt: skip
    return evidence


# --- concepts -------------------------------------------------------------------------------


def _concept_find(review: Review, label: str) -> Concept | None:
    return Concept.objects.filter(review=review, label__iexact=label).first()


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
    _edit(user, review)
    label = " ".join(label.split())
    if not label:
        raise ValidationError({"label": "A concept needs a label."})
    if _concept_find(review, label):
        raise ValidationError({"label": f"The codebook already has “{label}”."})
    _same_review(parent, review, "parent concept")
    if mechanism_type not in Concept.MechanismType.values:
        raise ValidationError({"mechanism_type": "Unknown mechanism type."})
    concept = Concept.objects.create(
        review=review,
        label=label,
        parent=parent,
        description=description,
        synonyms=[x.strip() for x in synonyms or [] if x.strip()],
        mechanism_type=mechanism_type,
        source=source.strip(),
    )
    event_record(review=review, actor=user, verb="concept.create", target=concept, summary=label)
    return concept


def concept_get_or_create(*, user, review: Review, label: str) -> tuple[Concept, bool]:
    """Case-insensitively the same concept, or a new one (coders create concepts on the fly)."""
    label = " ".join(label.split())
    existing = _concept_find(review, label)
    if existing:
        return existing, False
    return concept_create(user=user, review=review, label=label), True


CONCEPT_EDITS = ("concept.update", "concept.rename", "concept.move", "concept.merge")


def concept_lock(concept: Concept, expected_version: int | None) -> None:
    """Lock a concept for an edit (label, parent and description are one version)."""
    edit_lock(
        concept, expected_version=expected_version, verbs=CONCEPT_EDITS,
        name=lambda c: f"“{c.label}”",
    )  # fmt: skip


@transaction.atomic
def concept_update(
    *,
    user,
    concept: Concept,
    description: str | None = None,
    synonyms: list[str] | None = None,
    mechanism_type: str | None = None,
    source: str | None = None,
    expected_version: int | None = None,
) -> Concept:
    """`expected_version`: the Concept.version the editor opened (a rename or a move counts
    too); if a co-reviewer has saved it since, EditConflict and nothing changes."""
    _edit(user, concept.review)
    concept_lock(concept, expected_version)
    if source is not None:
        concept.source = source.strip()
    if description is not None:
        concept.description = description
    if synonyms is not None:
        concept.synonyms = [s.strip() for s in synonyms if s.strip()]
    if mechanism_type is not None:
        if mechanism_type not in Concept.MechanismType.values:
            raise ValidationError({"mechanism_type": "Unknown mechanism type."})
        concept.mechanism_type = mechanism_type
    given = {"description": description, "synonyms": synonyms, "mechanism_type": mechanism_type,
             "source": source}  # fmt: skip
    edit_save(concept, [k for k, v in given.items() if v is not None])
    event_record(review=concept.review, actor=user, verb="concept.update", target=concept)
    return concept


@transaction.atomic
def concept_rename(
    *, user, concept: Concept, label: str, expected_version: int | None = None
) -> Concept:
    _edit(user, concept.review)
    concept_lock(concept, expected_version)
    label = " ".join(label.split())
    if not label:
        raise ValidationError({"label": "A concept needs a label."})
    clash = _concept_find(concept.review, label)
    if clash and clash.pk != concept.pk:
        raise ValidationError(
            {"label": f"“{clash.label}” already exists; merge the two concepts instead."}
        )
    old = concept.label
    concept.label = label
    edit_save(concept, ["label"])
    event_record(
        review=concept.review, actor=user, verb="concept.rename", target=concept,
        summary=f"{old} → {label}", data={"old": old, "new": label},
    )  # fmt: skip
    return concept


@transaction.atomic
def concept_move(
    *, user, concept: Concept, parent: Concept | None, expected_version: int | None = None
) -> Concept:
    """Put a concept under another (or at the top level). Refuses cycles."""
    _edit(user, concept.review)
    concept_lock(concept, expected_version)
    _same_review(parent, concept.review, "parent concept")
    ancestor = parent
    seen: set[int] = set()
    while ancestor is not None and ancestor.pk not in seen:
        if ancestor.pk == concept.pk:
            raise ValidationError(
                {"parent": f"“{parent}” is {concept} itself or one of its sub-concepts."}
            )
        seen.add(ancestor.pk)
        ancestor = ancestor.parent
    old = concept.parent_id
    concept.parent = parent
    edit_save(concept, ["parent"])
    event_record(
        review=concept.review, actor=user, verb="concept.move", target=concept,
        summary=f"{concept} under {parent or 'top level'}",
        data={"old_parent": old, "new_parent": parent.pk if parent else None},
    )  # fmt: skip
    return concept


@transaction.atomic
def concept_merge(
    *, user, source: Concept, target: Concept, expected_source_version: int | None = None
) -> Concept:
    """Fold ``source`` into ``target``: CMOC elements re-pointed (an element that would
    duplicate one the CMOC already has in that role is dropped), children re-parented, the
    source's label kept as a synonym, then the source deleted.

    `expected_source_version`: the source's Concept.version the merger saw; if a co-reviewer
    has renamed, moved or described it since, EditConflict and nothing changes (its label
    and description are what the merge keeps). A source or target deleted or merged away
    meanwhile is refused with a ValidationError."""
    review = target.review
    _edit(user, review)
    _same_review(source, review, "concept")
    if source.pk == target.pk:
        raise ValidationError({"source": "Choose two different concepts to merge."})
    # Both rows locked, in id order (two merges of the same pair, either way round, wait for
    # each other instead of deadlocking); the copies are brought up to date from the rows.
    for concept in sorted((source, target), key=lambda c: c.pk):
        concept_lock(concept, expected_source_version if concept is source else None)
    # a target below the source would be orphaned into a cycle once the source goes
    moved_cmocs, dropped = [], []
    existing = set(CMOCElement.objects.filter(concept=target).values_list("cmoc_id", "role"))
    for el in CMOCElement.objects.filter(concept=source).select_related("cmoc"):
        if (el.cmoc_id, el.role) in existing:
            dropped.append(el.pk)
            el.delete()
        else:
            el.concept = target
            el.save(update_fields=["concept"])
            existing.add((el.cmoc_id, el.role))
            moved_cmocs.append(el.cmoc_id)
    Concept.objects.filter(parent=source).exclude(pk=target.pk).update(parent=target)
    if target.parent_id == source.pk:
        target.parent_id = source.parent_id
    synonyms = list(target.synonyms or [])
    for s in [source.label, *(source.synonyms or [])]:
        if s.lower() not in {x.lower() for x in synonyms} and s.lower() != target.label.lower():
            synonyms.append(s)
    target.synonyms = synonyms
    if not target.description and source.description:
        target.description = source.description
    edit_save(target, ["parent", "synonyms", "description"])
    event_record(
        review=review, actor=user, verb="concept.merge", target=target,
        summary=f"{source.label} → {target.label}",
        data={"source": source.pk, "source_label": source.label,
              "cmocs": sorted(set(moved_cmocs)), "dropped_duplicates": dropped},
    )  # fmt: skip
    source.delete()
    return target


# --- CMOCs ------------------------------------------------------------------------------------

CMOC_FIELDS = {
    "statement", "context", "mechanism_resource", "mechanism_reasoning", "outcome", "origin",
    "relation", "prior", "confidence", "confidence_note", "theme", "tags", "phase", "code",
}  # fmt: skip


def _code_next(review: Review) -> str:
    n = CMOC.objects.filter(review=review).count() + 1
    taken = set(
        CMOC.objects.filter(review=review, code__startswith="C").values_list("code", flat=True)
    )
    while f"C{n:03d}" in taken:
        n += 1
    return f"C{n:03d}"


def _elements_set(*, user, cmoc: CMOC, elements: Iterable[ElementSpec]) -> list[str]:
    """Replace a CMOC's elements. Returns labels of concepts created on the fly."""
    created: list[str] = []
    wanted: dict[tuple[str, int], str] = {}
    for spec in elements:
        if spec.role not in Role.values:
            raise ValidationError({"elements": f"Unknown role “{spec.role}”."})
        if spec.direction not in Direction.values:
            raise ValidationError({"elements": f"Unknown direction “{spec.direction}”."})
        concept = spec.concept
        if concept is None:
            if not spec.label.strip():
                continue
            concept, was_created = concept_get_or_create(
                user=user, review=cmoc.review, label=spec.label
            )
            if was_created:
                created.append(concept.label)
        _same_review(concept, cmoc.review, "concept")
        wanted[(spec.role, concept.pk)] = spec.direction
    current = {(e.role, e.concept_id): e for e in cmoc.elements.all()}
    for key, el in current.items():
        if key not in wanted:
            el.delete()
        elif el.direction != wanted[key]:
            el.direction = wanted[key]
            el.save(update_fields=["direction"])
    CMOCElement.objects.bulk_create(
        CMOCElement(cmoc=cmoc, role=role, concept_id=cid, direction=d)
        for (role, cid), d in wanted.items()
        if (role, cid) not in current
    )
    return created


def _cmoc_validate(cmoc: CMOC) -> None:
    if cmoc.phase_id and not Phase.objects.filter(pk=cmoc.phase_id, review=cmoc.review).exists():
        raise ValidationError({"phase": "That phase belongs to another review."})
    if cmoc.prior_id:
        if cmoc.prior_id == cmoc.pk:
            raise ValidationError({"prior": "A CMOC cannot be its own prior."})
        if not CMOC.objects.filter(pk=cmoc.prior_id, review=cmoc.review).exists():
            raise ValidationError({"prior": "That prior CMOC belongs to another review."})
    if cmoc.relation in {"affirms", "refines", "refutes"} and not cmoc.prior_id:
        raise ValidationError(
            {"prior": "Say which prior CMOC this one affirms, refines or refutes."}
        )
    if not cmoc.statement.strip():
        cmoc.statement = statement_compose(
            context=cmoc.context, resource=cmoc.mechanism_resource,
            reasoning=cmoc.mechanism_reasoning, outcome=cmoc.outcome,
        )  # fmt: skip
    if not cmoc.statement.strip():
        raise ValidationError(
            {"statement": "Write a statement or at least one of context, mechanism, outcome."}
        )
    if isinstance(cmoc.tags, str):
        cmoc.tags = [t.strip() for t in cmoc.tags.split(",") if t.strip()]
    cmoc.full_clean(exclude=["review", "created_by", "checked_by", "middle_range_theories"])


@transaction.atomic
def cmoc_create(
    *,
    user,
    review: Review,
    elements: Iterable[ElementSpec] = (),
    middle_range_theories: Iterable[MiddleRangeTheory] | None = None,
    excerpt: Excerpt | None = None,
    stance: str = "supports",
    **fields,
) -> CMOC:
    """A new CMOC; optionally with the excerpt it was coded from as its first evidence."""
    _edit(user, review)
    unknown = set(fields) - CMOC_FIELDS
    if unknown:
        raise ValueError(f"Unknown CMOC fields: {sorted(unknown)}")
    if not fields.get("code"):
        fields["code"] = _code_next(review)
    elif CMOC.objects.filter(review=review, code=fields["code"]).exists():
        raise ValidationError({"code": f"Code {fields['code']} is already used."})
    cmoc = CMOC(review=review, created_by=user, **fields)
    _cmoc_validate(cmoc)
    cmoc.save()
    created = _elements_set(user=user, cmoc=cmoc, elements=elements)
    if middle_range_theories is not None:
        theories = list(middle_range_theories)
        for t in theories:
            _same_review(t, review, "middle-range theory")
        cmoc.middle_range_theories.set(theories)
    event_record(
        review=review, actor=user, verb="cmoc.create", target=cmoc,
        summary=f"{cmoc.code}: {cmoc.statement[:100]}", data={"new_concepts": created},
    )  # fmt: skip
    if excerpt is not None:
        evidence_add(user=user, cmoc=cmoc, excerpt=excerpt, stance=stance)
        cmoc.refresh_from_db(fields=["source_count"])
    return cmoc


def _cmoc_name(cmoc: CMOC) -> str:
    return cmoc.code


@transaction.atomic
def cmoc_update(
    *,
    user,
    cmoc: CMOC,
    elements: Iterable[ElementSpec] | None = None,
    middle_range_theories: Iterable[MiddleRangeTheory] | None = None,
    expected_version: int | None = None,
    **fields,
) -> CMOC:
    """Change a CMOC's fields, elements and middle-range theories. `expected_version` is the
    CMOC.version the editor started from: if a co-reviewer has saved the CMOC since,
    EditConflict is raised and nothing changes (None: no check, for scripts)."""
    review = cmoc.review
    _edit(user, review)
    unknown = set(fields) - CMOC_FIELDS
    if unknown:
        raise ValueError(f"Unknown CMOC fields: {sorted(unknown)}")
    # The row lock orders concurrent edits of one CMOC, and the saved row (not the caller's
    # copy, which may be older) is what is compared and changed: only the fields given are
    # written, so a source count or a check recorded meanwhile is kept.
    edit_lock(
        cmoc, expected_version=expected_version, verbs=("cmoc.update",), name=_cmoc_name,
        linked_verbs=THEORY_LINKS,
    )  # fmt: skip
    if (
        fields.get("code")
        and CMOC.objects.filter(review=review, code=fields["code"]).exclude(pk=cmoc.pk).exists()
    ):
        raise ValidationError({"code": f"Code {fields['code']} is already used."})
    old = {k: str(getattr(cmoc, k)) for k in fields}
    for k, v in fields.items():
        setattr(cmoc, k, v)
    _cmoc_validate(cmoc)
    # The statement too: _cmoc_validate composes it when it is left empty.
    edit_save(cmoc, {*fields, "statement"})
    created = []
    if elements is not None:
        created = _elements_set(user=user, cmoc=cmoc, elements=elements)
    if middle_range_theories is not None:
        theories = list(middle_range_theories)
        for t in theories:
            _same_review(t, review, "middle-range theory")
        cmoc.middle_range_theories.set(theories)
    changed = {k: str(getattr(cmoc, k)) for k in fields if str(getattr(cmoc, k)) != old[k]}
    event_record(
        review=review, actor=user, verb="cmoc.update", target=cmoc, summary=cmoc.code,
        # "old" beside "changed": the audit trail shows what a field changed from
        data={"changed": changed, "old": {k: old[k] for k in changed}, "new_concepts": created,
              "version": cmoc.version},
    )  # fmt: skip
    return cmoc


def cmoc_check_state(cmoc: CMOC) -> str:
    """The second-coder check as a page shows it ("" when not checked), sent back with a
    check or an uncheck (see cmoc_check)."""
    if not cmoc.checked:
        return ""
    return f"{cmoc.checked_by_id or ''}@{cmoc.checked_at.isoformat() if cmoc.checked_at else ''}"


@transaction.atomic
def cmoc_check(
    *,
    user,
    cmoc: CMOC,
    checked: bool = True,
    comment: str = "",
    expected_version: int | None = None,
    expected_check: str | None = None,
) -> CMOC:
    """Second coder: verify a CMOC's coding logic (seed: checked independently). The coder
    who created a CMOC cannot check it themself.

    From a page opened earlier, a check would vouch for a CMOC the coder has not read, and
    an uncheck (or a check) would replace a co-coder's newer check unseen. So
    `expected_version` (the CMOC.version read) and `expected_check` (cmoc_check_state as
    shown) are refused with EditConflict, nothing changed, when the CMOC or its check has
    changed since. A check does not count as a new version: it changes no coded field."""
    _edit(user, cmoc.review)
    edit_lock(cmoc, expected_version=None, verbs=("cmoc.update",))  # the row, as saved now
    if expected_version is not None and int(expected_version) != cmoc.version:
        who, when = last_saved(cmoc, ("cmoc.update",))
        raise EditConflict(
            f"{who} changed {cmoc.code}{when} (version {cmoc.version}), after you opened it "
            f"(version {expected_version}). Nothing was changed: read the CMOC as saved now, "
            "then check it again.",
            current=cmoc,
        )
    if expected_check is not None and expected_check != cmoc_check_state(cmoc):
        who, when = last_saved(cmoc, ("cmoc.check", "cmoc.uncheck"))
        raise EditConflict(
            f"{who} marked {cmoc.code} {'checked' if cmoc.checked else 'not checked'}{when}, "
            "after you opened it. Nothing was changed: see their check and comments, then "
            "decide again.",
            current=cmoc,
        )
    if checked and cmoc.created_by_id and cmoc.created_by_id == user.pk:
        raise ValidationError({"checked": "A second coder must check this CMOC, not its author."})
    cmoc.checked = checked
    cmoc.checked_by = user if checked else None
    cmoc.checked_at = timezone.now() if checked else None
    cmoc.save(update_fields=["checked", "checked_by", "checked_at", "updated_at"])
    if comment.strip():
        CMOCComment.objects.create(cmoc=cmoc, author=user, text=comment.strip())
    event_record(
        review=cmoc.review, actor=user, verb="cmoc.check" if checked else "cmoc.uncheck",
        target=cmoc, summary=f"{cmoc.code}{': ' + comment[:100] if comment else ''}",
    )  # fmt: skip
    return cmoc


@transaction.atomic
def cmoc_comment_add(*, user, cmoc: CMOC, text: str) -> CMOCComment:
    _edit(user, cmoc.review)
    if not text.strip():
        raise ValidationError({"text": "Write a comment."})
    comment = CMOCComment.objects.create(cmoc=cmoc, author=user, text=text.strip())
    event_record(
        review=cmoc.review, actor=user, verb="cmoc.comment", target=cmoc, summary=text[:120]
    )
    return comment


# --- demi-regularities and middle-range theories -------------------------------------------


@transaction.atomic
def demi_regularity_create(
    *, user, review: Review, label: str, summary: str = "", cmocs: Iterable[CMOC] = ()
) -> DemiRegularity:
    _edit(user, review)
    label = label.strip()
    if not label:
        raise ValidationError({"label": "A demi-regularity needs a label."})
    if DemiRegularity.objects.filter(review=review, label=label).exists():
        raise ValidationError({"label": f"“{label}” already exists."})
    dr = DemiRegularity.objects.create(review=review, label=label, summary=summary)
    cmocs = list(cmocs)
    for c in cmocs:
        _same_review(c, review, "CMOC")
    dr.cmocs.set(cmocs)
    event_record(
        review=review, actor=user, verb="demi_regularity.create", target=dr, summary=label,
        data={"cmocs": [c.pk for c in cmocs]},
    )  # fmt: skip
    return dr


@transaction.atomic
def demi_regularity_update(
    *,
    user,
    demi_regularity: DemiRegularity,
    label: str | None = None,
    summary: str | None = None,
    cmocs: Iterable[CMOC] | None = None,
    expected_version: int | None = None,
) -> DemiRegularity:
    """`expected_version`: the DemiRegularity.version the editor opened (its CMOCs count
    too); if a co-reviewer has saved it since, EditConflict and nothing changes."""
    dr = demi_regularity
    _edit(user, dr.review)
    edit_lock(
        dr, expected_version=expected_version, verbs=("demi_regularity.update",),
        name=lambda d: f"“{d.label}”",
    )  # fmt: skip
    old = {"label": dr.label, "summary": dr.summary}
    if label is not None:
        label = label.strip()
        if not label:
            raise ValidationError({"label": "A demi-regularity needs a label."})
        if DemiRegularity.objects.filter(review=dr.review, label=label).exclude(pk=dr.pk).exists():
            raise ValidationError({"label": f"“{label}” already exists."})
        dr.label = label
    if summary is not None:
        dr.summary = summary.strip()
    edit_save(dr, [k for k, v in (("label", label), ("summary", summary)) if v is not None])
    data: dict = {k: [v, getattr(dr, k)] for k, v in old.items() if getattr(dr, k) != v}
    if cmocs is not None:
        cmocs = list(cmocs)
        for c in cmocs:
            _same_review(c, dr.review, "CMOC")
        before = set(dr.cmocs.values_list("pk", flat=True))
        dr.cmocs.set(cmocs)
        after = {c.pk for c in cmocs}
        if before != after:
            data["cmocs"] = {"added": sorted(after - before), "removed": sorted(before - after)}
    event_record(
        review=dr.review, actor=user, verb="demi_regularity.update", target=dr, summary=dr.label,
        data=data,
    )  # fmt: skip
    return dr


@transaction.atomic
def demi_regularity_delete(*, user, demi_regularity: DemiRegularity) -> None:
    """Ungroup: the CMOCs and their evidence stay; only the grouping goes."""
    dr = demi_regularity
    _edit(user, dr.review)
    event_record(
        review=dr.review, actor=user, verb="demi_regularity.delete", target=dr, summary=dr.label,
        data={"summary": dr.summary, "cmocs": sorted(dr.cmocs.values_list("pk", flat=True))},
    )  # fmt: skip
    dr.delete()


@transaction.atomic
def middle_range_theory_create(
    *, user, review: Review, name: str, citation: str = "", description: str = ""
) -> MiddleRangeTheory:
    _edit(user, review)
    name = name.strip()
    if not name:
        raise ValidationError({"name": "A middle-range theory needs a name."})
    if MiddleRangeTheory.objects.filter(review=review, name=name).exists():
        raise ValidationError({"name": f"“{name}” already exists."})
    mrt = MiddleRangeTheory.objects.create(
        review=review, name=name, citation=citation, description=description
    )
    event_record(
        review=review, actor=user, verb="middle_range_theory.create", target=mrt, summary=name
    )
    return mrt


@transaction.atomic
def middle_range_theory_update(
    *,
    user,
    theory: MiddleRangeTheory,
    name: str | None = None,
    citation: str | None = None,
    description: str | None = None,
    expected_version: int | None = None,
) -> MiddleRangeTheory:
    """`expected_version`: the MiddleRangeTheory.version the editor opened; if a
    co-reviewer has saved it since, EditConflict and nothing changes."""
    _edit(user, theory.review)
    edit_lock(
        theory, expected_version=expected_version, verbs=("middle_range_theory.update",),
        name=lambda t: f"“{t.name}”",
    )  # fmt: skip
    old = {"name": theory.name, "citation": theory.citation, "description": theory.description}
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationError({"name": "A middle-range theory needs a name."})
        clash = MiddleRangeTheory.objects.filter(review=theory.review, name=name)
        if clash.exclude(pk=theory.pk).exists():
            raise ValidationError({"name": f"“{name}” already exists."})
        theory.name = name
    if citation is not None:
        theory.citation = citation.strip()
    if description is not None:
        theory.description = description.strip()
    given = {"name": name, "citation": citation, "description": description}
    edit_save(theory, [k for k, v in given.items() if v is not None])
    event_record(
        review=theory.review, actor=user, verb="middle_range_theory.update", target=theory,
        summary=theory.name,
        data={k: [v, getattr(theory, k)] for k, v in old.items() if getattr(theory, k) != v},
    )  # fmt: skip
    return theory


@transaction.atomic
def middle_range_theory_delete(*, user, theory: MiddleRangeTheory) -> None:
    """Remove a theory; the CMOCs linked to it stay, only the links go."""
    _edit(user, theory.review)
    event_record(
        review=theory.review, actor=user, verb="middle_range_theory.delete", target=theory,
        summary=theory.name,
        data={"citation": theory.citation, "cmocs": sorted(theory.cmocs.values_list("pk", flat=True))},
    )  # fmt: skip
    theory.delete()


THEORY_LINKS = ("middle_range_theory.link", "middle_range_theory.unlink")


@transaction.atomic
def middle_range_theory_link(
    *, user, theory: MiddleRangeTheory, cmoc: CMOC, linked: bool = True
) -> None:
    """Link a CMOC to a theory (or unlink it). The CMOC's theories are a field of its edit
    form, which writes them whole: a link made meanwhile is a new version of the CMOC, so
    that form, opened before, is refused (cmoc_update) instead of dropping the link."""
    _edit(user, theory.review)
    _same_review(cmoc, theory.review, "CMOC")
    edit_lock(cmoc, expected_version=None, verbs=("cmoc.update",))
    if theory.cmocs.filter(pk=cmoc.pk).exists() != linked:
        (theory.cmocs.add if linked else theory.cmocs.remove)(cmoc)
        edit_save(cmoc, [])
    event_record(
        review=theory.review, actor=user,
        verb="middle_range_theory.link" if linked else "middle_range_theory.unlink",
        target=theory, summary=f"{theory.name} — {cmoc.code}", data={"cmoc": cmoc.pk},
    )  # fmt: skip


# --- interviews ---------------------------------------------------------------------------

PARTICIPANT_FIELDS = {"code", "role", "case", "organisation_type", "interview_phase", "notes"}


@transaction.atomic
def participant_create(*, user, review: Review, code: str, **fields) -> Participant:
    _edit(user, review)
    if set(fields) - PARTICIPANT_FIELDS:
        raise ValueError(f"Unknown participant fields: {sorted(set(fields) - PARTICIPANT_FIELDS)}")
    code = code.strip()
    if not code:
        raise ValidationError({"code": "A participant needs a code (e.g. P01)."})
    if Participant.objects.filter(review=review, code=code).exists():
        raise ValidationError({"code": f"Participant {code} already exists."})
    participant = Participant.objects.create(review=review, code=code, **fields)
    event_record(
        review=review, actor=user, verb="participant.create", target=participant, summary=code
    )
    return participant


@transaction.atomic
def participant_update(
    *, user, participant: Participant, expected_version: int | None = None, **fields
) -> Participant:
    """`expected_version`: the Participant.version the editor opened; if a co-reviewer has
    saved it since, EditConflict and nothing changes."""
    _edit(user, participant.review)
    if set(fields) - PARTICIPANT_FIELDS:
        raise ValueError(f"Unknown participant fields: {sorted(set(fields) - PARTICIPANT_FIELDS)}")
    edit_lock(
        participant, expected_version=expected_version, verbs=("participant.update",),
        name=lambda p: f"participant {p.code}",
    )  # fmt: skip
    code = fields.get("code", participant.code).strip()
    if (
        Participant.objects.filter(review=participant.review, code=code)
        .exclude(pk=participant.pk)
        .exists()
    ):
        raise ValidationError({"code": f"Participant {code} already exists."})
    for k, v in fields.items():
        setattr(participant, k, v.strip() if isinstance(v, str) else v)
    edit_save(participant, fields)
    event_record(
        review=participant.review, actor=user, verb="participant.update", target=participant
    )
    return participant


@transaction.atomic
def document_create(
    *,
    user,
    review: Review,
    title: str,
    text: str,
    kind: str = Document.Kind.FULL_TEXT,
    study: Study | None = None,
    participant: Participant | None = None,
    page_map: list[int] | None = None,
    content_type: str = "text/plain",
) -> Document:
    """A document from extracted text. Form feeds (``\\f``, as pdftotext writes them) mark
    page breaks when no page map is given."""
    _edit(user, review)
    _same_review(study, review, "study")
    _same_review(participant, review, "participant")
    if not title.strip():
        raise ValidationError({"title": "A document needs a title."})
    if not text.strip():
        raise ValidationError({"text": "The document has no text."})
    if kind not in Document.Kind.values:
        raise ValidationError({"kind": "Unknown document kind."})
    if page_map is None and "\f" in text:
        page_map = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\f"]
    document = Document.objects.create(
        review=review, title=title.strip(), text=text, kind=kind, study=study,
        participant=participant, page_map=page_map or [], content_type=content_type,
        uploaded_by=user,
    )  # fmt: skip
    event_record(
        review=review, actor=user, verb="document.create", target=document,
        summary=document.title, data={"kind": kind, "chars": len(text)},
    )  # fmt: skip
    return document


@transaction.atomic
def transcript_upload(
    *,
    user,
    review: Review,
    filename: str,
    data: bytes,
    title: str = "",
    participant: Participant | None = None,
    study: Study | None = None,
    kind: str = Document.Kind.TRANSCRIPT,
) -> Document:
    """An interview or focus-group transcript (TXT, DOCX, VTT) as a document whose quotes
    are coded exactly like excerpts of papers. Nothing is written if the file is unreadable."""
    _edit(user, review)
    if kind not in (Document.Kind.TRANSCRIPT, Document.Kind.FOCUS_GROUP):
        raise ValidationError({"kind": "A transcript is an interview or a focus group."})
    try:
        text = transcript_text(filename, data)
    except TranscriptError as exc:
        raise ValidationError({"file": str(exc)}) from exc
    if not title:
        title = f"Interview {participant.code}" if participant else filename
    content_types = {
        "txt": "text/plain", "vtt": "text/vtt",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }  # fmt: skip
    return document_create(
        user=user, review=review, title=title, text=text, kind=kind, study=study,
        participant=participant, page_map=[],
        content_type=content_types[filename.rsplit(".", 1)[-1].lower()],
    )  # fmt: skip
